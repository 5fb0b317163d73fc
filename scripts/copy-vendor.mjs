// Copy the browser builds of our npm dependencies into static/vendor/ (run by `npm ci` as postinstall).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");
const files = {
  "axe-core/axe.min.js": "axe.min.js", // browser tests only (accessibility audit), never served by a page
  "echarts/dist/echarts.min.js": "echarts.min.js",
  "socket.io-client/dist/socket.io.min.js": "socket.io.min.js",
};

mkdirSync(vendor, { recursive: true });
for (const [source, target] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", source), join(vendor, target));
  console.log(`static/vendor/${target} <- node_modules/${source}`);
}
