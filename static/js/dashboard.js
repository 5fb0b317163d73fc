// Branch dashboard: copy the reminder text, and draw the trend and exam charts (ECharts from static/vendor;
// the tables beside the charts hold the same numbers).
(function () {
  "use strict";
  var button = document.getElementById("copy-reminder");
  if (button) {
    button.addEventListener("click", function () {
      var area = document.getElementById(button.dataset.target);
      var status = document.getElementById("copy-status");
      var done = function () { status.textContent = "已复制，可粘贴到工作群"; };
      // Older phone browsers and a refused permission fall back to selecting the text: the member is
      // always told which of the two happened.
      var selectAndCopy = function () {
        area.select();
        if (document.execCommand("copy")) { done(); } else { status.textContent = "请长按文字手动复制"; }
      };
      status.textContent = "";
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(area.value).then(done, selectAndCopy);
      } else {
        selectAndCopy();
      }
    });
  }
  var source = document.getElementById("board-charts");
  if (!source || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var font = parseFloat(window.getComputedStyle(document.documentElement).fontSize);  // the page's (大字模式) size
  var trend = window.echarts.init(document.getElementById("trend-chart"));
  trend.setOption({
    animation: false,
    textStyle: { fontSize: font },
    legend: { top: 0, textStyle: { fontSize: font } },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", textStyle: { fontSize: font } },
    xAxis: { type: "category", data: data.trend.map(function (row) { return row[0]; }), axisLabel: { rotate: 30, fontSize: font } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: font } },
    series: [
      { name: "参学率", type: "line", data: data.trend.map(function (row) { return row[1]; }), itemStyle: { color: "#9E1016" } },
      { name: "达标率", type: "line", data: data.trend.map(function (row) { return row[2]; }), itemStyle: { color: "#137333" } }
    ]
  });
  data.exams.forEach(function (exam, index) {
    var chart = window.echarts.init(document.getElementById("exam-chart-" + index));
    chart.setOption({
      animation: false,
      textStyle: { fontSize: font },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: exam[1].map(function (row) { return row[0]; }), axisLabel: { rotate: 30, fontSize: font } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: font } },
      series: [{ type: "bar", data: exam[1].map(function (row) { return row[1]; }), itemStyle: { color: "#C8161D" } }]
    });
  });
})();
