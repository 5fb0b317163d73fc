// Learning-record charts (ECharts from static/vendor, never a CDN): activity calendar and accuracy trend.
(function () {
  "use strict";
  var source = document.getElementById("record-charts");
  if (!source || typeof window.echarts === "undefined") {
    return; // the data table below the charts still shows every number
  }
  var data = JSON.parse(source.textContent);
  var red = "#C8161D";
  var font = parseFloat(window.getComputedStyle(document.documentElement).fontSize);  // the page's (大字模式) size
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var parts = data.today.split("-").map(Number);  // the server's local day, not the device's
  var start = new Date(parts[0], parts[1] - 1 - 3, 1);
  var startIso = start.getFullYear() + "-" + pad(start.getMonth() + 1) + "-01";
  var max = data.calendar.reduce(function (m, row) { return Math.max(m, row[1]); }, 10);

  var calendar = window.echarts.init(document.getElementById("calendar-chart"));
  calendar.setOption({
    animation: false,
    textStyle: { fontSize: font },
    tooltip: { textStyle: { fontSize: font }, formatter: function (p) { return p.value[0] + "：答题 " + p.value[1]; } },
    visualMap: { min: 0, max: max, show: false, inRange: { color: ["#f6e6e6", red] } },
    calendar: {
      range: [startIso, data.today], cellSize: ["auto", font], left: 2.2 * font, right: 10, top: 1.6 * font,
      dayLabel: { nameMap: "ZH", firstDay: 1, fontSize: font }, monthLabel: { nameMap: "ZH", fontSize: font },
      yearLabel: { show: false },
      itemStyle: { color: "#f1ece6", borderColor: "#fff", borderWidth: 2 }, splitLine: { show: false }
    },
    series: [{ type: "heatmap", coordinateSystem: "calendar", data: data.calendar }]
  });

  var trend = window.echarts.init(document.getElementById("trend-chart"));
  trend.setOption({
    animation: false,
    textStyle: { fontSize: font },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", textStyle: { fontSize: font }, valueFormatter: function (v) { return v + "%"; } },
    xAxis: { type: "category", data: data.trend.map(function (row) { return row[0].slice(5); }), axisLabel: { fontSize: font } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: font } },
    series: [{ type: "line", data: data.trend.map(function (row) { return row[1]; }), smooth: true,
      showSymbol: true, symbolSize: 8,
      itemStyle: { color: red }, areaStyle: { color: "rgba(200,22,29,0.08)" } }]
  });
  window.addEventListener("resize", function () { calendar.resize(); trend.resize(); });
})();
