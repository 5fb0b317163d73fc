// Organizer's exam dashboard: the score distribution chart (the table below it holds the same numbers),
// and a confirmation before voiding a question.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  var source = document.getElementById("exam-chart");
  if (!source || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent).distribution;
  var chart = window.echarts.init(document.getElementById("distribution-chart"));
  var font = parseFloat(window.getComputedStyle(document.documentElement).fontSize);  // the page's (大字模式) size
  chart.setOption({
    animation: false,
    textStyle: { fontSize: font },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", textStyle: { fontSize: font } },
    xAxis: { type: "category", data: data.map(function (row) { return row[0]; }), axisLabel: { rotate: 30, fontSize: font } },
    yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: font } },
    series: [{ type: "bar", data: data.map(function (row) { return row[1]; }), itemStyle: { color: "#C8161D" } }]
  });
})();
