// Bar charts from data embedded with json_script (no inline scripts: the CSP forbids them).
document.querySelectorAll("[data-chart]").forEach(function (el) {
  var data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.labels, inverse: true },
    series: [{ type: "bar", data: data.values, itemStyle: { color: "#8c2f39" }, label: { show: true, position: "right" } }],
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
