"""Shared pieces of the browser tests: a real server process and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Screenshots kept in the repository (docs/, looked at by a person) and where a plain test run writes them
#: (git-ignored): a test run never changes tracked files; `pytest --update-screenshots` refreshes docs/.
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
RUN_SCREENSHOTS = ROOT / "tests" / "screenshots"
#: Set by conftest.py from the `--update-screenshots` option.
update_screenshots = False
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

needs_browser = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="browser tests need Debian's chromium (apt-get install chromium fonts-noto-cjk)"
)


#: The ``quizengine`` command of *this checkout*, to run with ``cwd=ROOT``. The venv's console script imports
#: the package the venv was installed from (another checkout), with its own migrations; ``-m`` puts the
#: working directory first on the path.
QUIZENGINE_CLI = [sys.executable, "-m", "quizengine"]


@dataclass(frozen=True)
class LiveServer:
    """A running `run.py` process: its base URL, start-up output and environment (for CLI calls)."""

    url: str
    output: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run a `quizengine` command against the same instance and return its output."""
        result = subprocess.run(
            [*QUIZENGINE_CLI, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return result.stdout


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    instance: Path, banks: Path, port: int | None = None, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], LiveServer]:
    """Start `python run.py` (as a user would) and wait until it accepts connections."""
    port = port or free_port()
    env = {**os.environ, "QUIZENGINE_INSTANCE": str(instance), "QUIZENGINE_BANKS": str(banks), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.update(extra_env or {})
    command = [sys.executable, str(ROOT / "run.py"), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline and process.poll() is None:
        lines.append(process.stdout.readline())
        if "quizengine 已启动" in lines[-1]:
            break
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                # Keep reading the server's output: it logs every request, and once the pipe's buffer (64 KB)
                # is full its next write blocks the whole (gevent) server — a long crawl then times out.
                threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
                return process, LiveServer(f"http://127.0.0.1:{port}", "".join(lines), env)
        time.sleep(0.05)
    stop_server(process)
    raise AssertionError("server did not start:\n" + "".join(lines))


def _drain(output: IO[str]) -> None:
    """Read and drop a server's output until it closes."""
    try:
        for _line in output:
            pass
    except (ValueError, OSError):  # closed by stop_server
        pass


def stop_server(process: subprocess.Popen[str], *, kill: bool = False) -> None:
    """Stop a server process: terminate politely, or kill it outright (a crash)."""
    if process.poll() is None:
        process.kill() if kill else process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def live_server(instance: Path, banks: Path, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """A running server for the duration of the block."""
    process, server = start_server(instance, banks, extra_env=extra_env)
    try:
        yield server
    finally:
        stop_server(process)


@contextmanager
def chromium() -> Iterator[object]:
    """Headless Debian Chromium under Playwright (no browser download, no background networking)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: object, base: str, username: str, password: str) -> None:
    """Log in through the login form, as a person does."""
    page.goto(base + "/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    click_through(page, page.get_by_role("button", name="登录"))  # type: ignore[attr-defined]


def click_through(page: object, target: object) -> None:
    """Click ``target`` and return once the page it leads to has loaded.

    A click only starts the navigation: read right after it, the page was once found empty (content() == '')
    and ``wait_for_load_state()`` can answer for the page being left. Waiting for the navigation that the
    click starts is the one way that holds, also when a form posts back to the same address.
    """
    with page.expect_navigation():  # type: ignore[attr-defined]
        target.click()  # type: ignore[attr-defined]


def screenshot_path(name: str) -> Path:
    """Where the screenshot ``name`` goes: docs/screenshots/ with --update-screenshots, else tests/screenshots/."""
    folder = DOC_SCREENSHOTS if update_screenshots else RUN_SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def shot(page: object, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (full page unless told) where ``screenshot_path`` says; return its path to look at."""
    path = screenshot_path(name)
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path


def scrolls_sideways(page: object) -> bool:
    """Whether the page is wider than the screen, measured once it has loaded and its fonts are in.

    Measured right after a navigation, the layout may still use a fallback font's wider glyphs (the CJK
    font loads late on a busy machine): a page that fits was once reported as scrolling sideways.
    """
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    script = "async () => { await document.fonts.ready; return document.documentElement.scrollWidth > innerWidth; }"
    return bool(page.evaluate(script))  # type: ignore[attr-defined]
