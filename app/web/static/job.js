// Live job page: polls the JSON API until the job ends; no reload, no external library.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const fmt = (v) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v));
  const history = {};
  let lastEvent = 0;
  const logLines = [];

  function addEpoch(payload) {
    for (const [k, v] of Object.entries(payload)) {
      if (k === "epoch" || typeof v !== "number") continue;
      (history[k] = history[k] || [])[payload.epoch - 1] = v;
    }
  }
  function drawCharts() {
    const loss = document.getElementById("chart-loss"), acc = document.getElementById("chart-accuracy");
    if (loss && acc) window.TrainyardChart.drawHistory(loss, acc, [{ name: "", history }]);
  }
  function duration(s) {
    if (!Number.isFinite(s) || s < 0) return "–";
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
  }

  function render(job) {
    const pct = (job.progress * 100).toFixed(1);
    document.getElementById("bar").style.width = pct + "%";
    document.getElementById("pct").textContent = pct;
    if (job.type === "infer") {
      const m = job.metrics || {};
      document.getElementById("rows-done").textContent = (m.rows_done ?? m.rows ?? 0).toLocaleString("en-US");
      document.getElementById("rows-total").textContent = (m.rows_total ?? m.rows ?? 0).toLocaleString("en-US");
    } else {
      document.getElementById("epoch").textContent = job.epoch;
      document.getElementById("total").textContent = job.total_epochs;
    }
    document.getElementById("attempt").textContent = job.attempt;
    document.getElementById("status").innerHTML = '<span class="badge badge-' + job.status + '">' + job.status + "</span>";
    if (job.started_at) {
      const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
      const elapsed = (end - Date.parse(job.started_at)) / 1000;
      document.getElementById("elapsed").textContent = duration(elapsed);
      const eta = job.status === "running" && job.progress > 0.01 ? elapsed * (1 - job.progress) / job.progress : NaN;
      document.getElementById("eta").textContent = job.status === "running" ? duration(eta) : "–";
    }
    const dl = document.getElementById("metrics");
    dl.replaceChildren();
    for (const [k, v] of Object.entries(job.metrics || {})) {
      if (typeof v === "object" && v !== null) continue;
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = fmt(v);
      dl.append(dt, dd);
    }
    if (job.version && !document.getElementById("version-link")) {
      const a = document.createElement("a");
      a.id = "version-link";
      a.href = "/models/" + encodeURIComponent(job.model_name) + "/versions/" + job.version;
      a.textContent = job.model_name + " v" + job.version;
      const p = document.getElementById("result"); p.replaceChildren("Registered ", a);
    }
    const err = document.getElementById("error");
    if (job.error) { err.hidden = false; err.textContent = job.error; }
    const cancel = document.getElementById("cancel-form");
    if (cancel && ["succeeded", "failed", "cancelled"].includes(job.status)) cancel.hidden = true;
  }

  function describe(e) {
    const p = e.payload;
    if (e.kind === "epoch") {
      return "epoch " + p.epoch + ": " + Object.entries(p).filter(([k]) => k !== "epoch")
        .map(([k, v]) => k + " " + fmt(v)).join(" · ");
    }
    if (e.kind === "status") {
      const extra = Object.entries(p).filter(([k]) => k !== "status").map(([k, v]) => k + " " + v).join(", ");
      return p.status + (extra ? " (" + extra + ")" : "");
    }
    return e.kind + " " + (p.message || JSON.stringify(p));
  }

  async function pollEvents() {
    const res = await fetch(root.dataset.events + "?after=" + lastEvent, { headers: { Accept: "application/json" } });
    if (!res.ok) return;
    const ol = document.getElementById("timeline");
    let epochs = false;
    for (const e of (await res.json()).items) {
      const li = document.createElement("li"); li.dataset.id = e.id;
      li.textContent = e.at.slice(0, 19).replace("T", " ") + " " + describe(e);
      ol.append(li); lastEvent = Math.max(lastEvent, e.id);
      if (e.kind === "epoch") { addEpoch(e.payload); epochs = true; }
      if (e.kind === "log") logLines.push(e.at.slice(11, 19) + " " + (e.payload.message || ""));
    }
    if (epochs) drawCharts();
    document.getElementById("log").textContent = logLines.slice(-50).join("\n");
  }

  async function poll() {
    try {
      const [jobRes] = await Promise.all([fetch(root.dataset.api, { headers: { Accept: "application/json" } }), pollEvents()]);
      if (jobRes.ok) {
        const job = await jobRes.json();
        render(job);
        if (["succeeded", "failed", "cancelled"].includes(job.status)) { await pollEvents(); return; }
      }
    } catch (e) { /* the server may be restarting: keep polling */ }
    setTimeout(poll, 1000);
  }
  // Start from nothing: the first poll loads the whole timeline and draws the charts.
  document.getElementById("timeline").replaceChildren();
  poll();
})();
