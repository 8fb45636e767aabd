// Bar charts from data embedded with json_script (no inline scripts: the CSP forbids them).
// {labels, values}: one series; {labels, series: [{name, values, color}]}: stacked series with a legend.
document.querySelectorAll("[data-chart]").forEach(function (el) {
  var data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
  var chart = echarts.init(el, null, { renderer: "svg" });
  var stacked = Array.isArray(data.series);
  var series = stacked
    ? data.series.map(function (s) {
        return {
          type: "bar", name: s.name, stack: "total", data: s.values,
          itemStyle: s.color ? { color: s.color } : undefined,
          label: { show: true, formatter: function (p) { return p.value ? p.value : ""; } },
          labelLayout: { hideOverlap: true },  // narrow segments: the tooltip still gives the number
        };
      })
    : [{ type: "bar", data: data.values, itemStyle: { color: "#8c2f39" }, label: { show: true, position: "right" } }];
  chart.setOption({
    grid: { left: 8, right: 16, top: stacked ? 36 : 8, bottom: 8, containLabel: true },
    legend: stacked ? { top: 0 } : undefined,
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.labels, inverse: true },
    series: series,
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
