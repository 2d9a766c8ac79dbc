// The sweep page, live: polls the sweep's JSON every 2 s while it runs, redraws the trials table, the
// best-so-far curve and a parallel-coordinates chart (one axis per searched parameter, then the metric).
(function () {
  const table = document.getElementById("trials");
  if (!table) return;
  const NS = "http://www.w3.org/2000/svg";
  const params = table.dataset.params ? table.dataset.params.split(",") : [];
  const metric = table.dataset.metric;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function fmt(v) { return v === null || v === undefined ? "—" : (typeof v === "number" ? v.toFixed(4) : String(v)); }

  function axisScale(values) {
    const nums = values.filter((v) => typeof v === "number");
    if (nums.length === values.length && nums.length) {
      let lo = Math.min(...nums), hi = Math.max(...nums);
      const log = lo > 0 && hi / lo > 50;
      const f = (v) => (log ? Math.log(v) : v);
      if (f(lo) === f(hi)) return () => 0.5;
      return (v) => (f(v) - f(lo)) / (f(hi) - f(lo));
    }
    const cats = [...new Set(values.map(String))];
    return (v) => (cats.length > 1 ? cats.indexOf(String(v)) / (cats.length - 1) : 0.5);
  }

  function parallel(box, trials) {
    box.replaceChildren();
    const W = 420, H = 230, L = 20, R = 20, T = 30, B = 30;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "chart", role: "img",
                            "aria-label": "parameters against the metric", id: "parallel-coordinates" }, box);
    el("text", { x: L, y: 15, class: "chart-title" }, svg).textContent = `parameters against ${metric}`;
    const axes = [...params, metric];
    const rows = trials.filter((t) => t.metric !== null);
    const x = (i) => L + (i * (W - L - R)) / Math.max(1, axes.length - 1);
    const scales = axes.map((a, i) => axisScale(rows.map((t) => (i < params.length ? t.params[a] : t.metric))));
    axes.forEach((a, i) => {
      el("line", { x1: x(i), y1: T, x2: x(i), y2: H - B, class: "axis" }, svg);
      el("text", { x: x(i), y: H - 10, class: "tick", "text-anchor": "middle" }, svg).textContent = a;
    });
    for (const t of rows) {
      const pts = axes.map((a, i) => {
        const v = i < params.length ? t.params[a] : t.metric;
        return `${x(i)},${T + (1 - scales[i](v)) * (H - T - B)}`;
      });
      el("polyline", { points: pts.join(" "), fill: "none", class: `pc-line pc-${t.status}`,
                       stroke: t.status === "pruned" ? "#98a2b3" : "#2457d6", "stroke-width": 1.5,
                       "data-trial": t.number }, svg);
    }
  }

  function render(sweep) {
    document.getElementById("trials-started").textContent = `${sweep.trials_started}/${sweep.budget.trials}`;
    document.getElementById("best").textContent = sweep.best_value === null ? "—"
      : `${sweep.best_value.toFixed(4)} (trial ${sweep.best_trial})`;
    document.getElementById("stopped-early").textContent = sweep.stopped_early;
    document.getElementById("epochs-spent").textContent = sweep.epochs_spent;
    document.getElementById("epochs-saved").textContent = sweep.epochs_saved;
    document.getElementById("sweep-status").innerHTML = `<span class="badge badge-${sweep.status}">${sweep.status}</span>`;
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const t of sweep.trials) {
      const tr = body.insertRow();
      tr.dataset.trial = t.number;
      tr.dataset.status = t.status;
      const cells = [t.number, ...params.map((p) => t.params[p] ?? ""), t.status, t.epoch, fmt(t.metric),
                     t.status === "pruned" ? `rung ${t.stopped_rung} (epoch ${t.stopped_epoch})` : "—"];
      for (const c of cells) tr.insertCell().textContent = c;
      const link = document.createElement("a");
      link.href = `/jobs/${t.job_id}`;
      link.textContent = (t.job_id || "").slice(0, 8);
      tr.insertCell().appendChild(link);
    }
    if (window.TrainyardChart) {
      window.TrainyardChart.draw(document.getElementById("chart-best"), `best ${metric} so far`, [
        { label: "best so far", points: sweep.best_so_far.map((p, i) => [i + 1, p.best]) },
        { label: "trial", points: sweep.best_so_far.map((p, i) => [i + 1, p.value]) }]);
    }
    parallel(document.getElementById("chart-parallel"), sweep.trials);
    return sweep.status === "running" || sweep.status === "paused" || sweep.trials.some((t) => !t.finished_at);
  }

  async function poll() {
    try {
      const r = await fetch(table.dataset.url, { headers: { Accept: "application/json" } });
      if (r.ok && !render(await r.json())) return;
    } catch (e) { /* the next poll tries again */ }
    setTimeout(poll, 2000);
  }
  poll();
})();
