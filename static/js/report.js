// Printable reports: draw the trend as an SVG chart (no animation, so it is complete before anyone prints,
// and Chromium's PDF output keeps it as vector), then mark the page ready; the 打印 button prints.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var source = document.getElementById("report-charts");
  var target = document.getElementById("report-trend");
  if (source && target && typeof window.echarts !== "undefined") {
    var data = JSON.parse(source.textContent);
    var font = parseFloat(window.getComputedStyle(document.documentElement).fontSize);  // the page's (大字模式) size
    var chart = window.echarts.init(target, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif", fontSize: font },
      legend: { top: 0, textStyle: { fontSize: font } },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.trend.map(function (row) { return row[0]; }), axisLabel: { rotate: 30, fontSize: font } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: font } },
      series: [
        { name: "参学率", type: "line", data: data.trend.map(function (row) { return row[1]; }), itemStyle: { color: "#9E1016" } },
        { name: "达标率", type: "line", data: data.trend.map(function (row) { return row[2]; }), itemStyle: { color: "#137333" } }
      ]
    });
  }
  document.documentElement.dataset.reportReady = "1";
})();
