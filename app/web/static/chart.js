// Tiny dependency-free SVG line charts for per-epoch metrics (works offline, no CDN).
window.TrainyardChart = (function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2457d6", "#d92d20", "#12b76a", "#f79009"];

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  // series: [{label, points: [[x, y], ...]}]
  function draw(container, title, series) {
    container.replaceChildren();
    const W = 420, H = 230, L = 46, R = 10, B = 30;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "chart", role: "img",
                            "aria-label": title });
    el("text", { x: L, y: 15, class: "chart-title" }, svg).textContent = title;
    const T = legend(svg, series.map((s, i) => ({ label: s.label, color: COLORS[i % COLORS.length] })), L, 30, W - R) + 10;
    const all = series.flatMap((s) => s.points);
    if (!all.length) { container.appendChild(svg); return svg; }
    const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]).filter(Number.isFinite);
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
    let y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
    const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
    el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }, svg);
    el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }, svg);
    for (const v of [y0, (y0 + y1) / 2, y1]) {
      el("text", { x: L - 4, y: sy(v) + 4, class: "tick", "text-anchor": "end" }, svg).textContent = v.toFixed(3);
    }
    el("text", { x: W - R, y: H - 8, class: "tick", "text-anchor": "end" }, svg).textContent = `epoch ${x1}`;
    series.forEach((s, i) => {
      const pts = s.points.filter((p) => Number.isFinite(p[1]));
      if (!pts.length) return;
      el("polyline", { points: pts.map((p) => `${sx(p[0])},${sy(p[1])}`).join(" "), fill: "none",
                       stroke: COLORS[i % COLORS.length], "stroke-width": 2, class: "series",
                       "data-label": s.label }, svg);
    });
    container.appendChild(svg);
    return svg;
  }

  // A colour key: a short line in each series' colour before its name, wrapping onto a new row when full.
  function legend(svg, items, left, top, right) {
    let x = left, y = top;
    for (const { label, color } of items) {
      const width = 22 + label.length * 6.2;
      if (x > left && x + width > right) { x = left; y += 14; }
      el("line", { x1: x, y1: y - 4, x2: x + 16, y2: y - 4, stroke: color, class: "legend-key" }, svg);
      el("text", { x: x + 20, y: y, class: "legend", "data-color": color }, svg).textContent = label;
      x += width + 10;
    }
    return items.length ? y : top - 14;
  }

  // history: {loss: [...], val_loss: [...], accuracy: [...], ...} -> two charts
  function drawHistory(lossBox, accBox, histories) {
    const series = (metric) => histories.flatMap(({ name, history }) =>
      [metric, "val_" + metric].filter((k) => history[k]).map((k) => ({
        label: (name ? name + " " : "") + k, points: history[k].map((v, i) => [i + 1, v]) })));
    draw(lossBox, "loss", series("loss"));
    draw(accBox, "accuracy", series("accuracy"));
  }

  return { draw, drawHistory };
})();
