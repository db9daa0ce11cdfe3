// pricewatch panel: draws the uPlot charts from the JSON each page carries, and zooms screenshots.
// No inline script anywhere: the pages' CSP allows only this site's files.
(function () {
  "use strict";

  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

  function money(language) {
    const format = new Intl.NumberFormat(language === "ru" ? "ru-RU" : "en-US", { maximumFractionDigits: 2 });
    return (value) => (value == null ? "—" : format.format(value));
  }

  function seriesOf(spec) {
    const labels = spec.labels || {};
    let n = 0;
    return spec.data.series.map((s) => {
      if (s.key === "rrp") return { label: labels.rrp, stroke: "#c00000", width: 2, dash: [8, 4], spanGaps: true };
      if (s.key === "threshold") return { label: labels.threshold, stroke: "#e08a00", width: 1.5, dash: [3, 3], spanGaps: true };
      const color = COLORS[n++ % COLORS.length];
      return { label: s.label || labels.price, stroke: color, width: 2, spanGaps: true, points: { show: true, size: 5, fill: color } };
    });
  }

  function draw(holder) {
    const source = document.getElementById(holder.dataset.chart);
    if (!source || typeof uPlot === "undefined") return;
    const spec = JSON.parse(source.textContent);
    const format = money(spec.language);
    const data = [spec.data.x, ...spec.data.series.map((s) => s.values)];
    const options = {
      width: Math.max(320, holder.clientWidth - 16),
      height: Number(holder.dataset.height || 320),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), spec.tz),
      series: [{}, ...seriesOf(spec).map((s) => ({ ...s, value: (u, v) => format(v) }))],
      axes: [{}, { size: 80, values: (u, ticks) => ticks.map(format) }],
      cursor: { drag: { x: true, y: false } },
    };
    holder.textContent = "";
    const chart = new uPlot(options, data, holder);
    window.addEventListener("resize", () => chart.setSize({ width: Math.max(320, holder.clientWidth - 16), height: options.height }));
  }

  function zoom(img) {
    img.addEventListener("click", () => {
      img.classList.toggle("zoomed");
      img.parentElement.classList.toggle("zoomed-wrap");
    });
  }

  function start(root) {
    root.querySelectorAll("[data-chart]").forEach(draw);
    root.querySelectorAll("img[data-zoom]").forEach(zoom);
  }

  document.addEventListener("DOMContentLoaded", () => start(document));
  document.addEventListener("htmx:afterSwap", (event) => start(event.target));
})();
