// Live job page: polls the JSON API until the job ends; no reload, no external library.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  // The rules of app/web/pages/formatting.py (value, metric), for the values this page updates live.
  const MISSING = "\u2014", NOT_EVALUATED = "not evaluated: all words out of vocabulary";
  const COUNT = /(rows|_count|_size|scored|errors|documents|words|_evaluated|epochs|epochs_run|_total|_done|_per_second|_per_s|_epoch|classes)$/;
  const whole = (v) => Math.round(v).toLocaleString("en-US");
  function formatValue(v, key = "") {
    if (v === null || v === undefined) return MISSING;
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (Array.isArray(v)) return v.map((x) => formatValue(x)).join(", ") || MISSING;
    if (typeof v === "object") return Object.entries(v).map(([k, x]) => k + " " + formatValue(x, k)).join(", ") || MISSING;
    if (typeof v !== "number") return String(v);
    if (!Number.isFinite(v)) return String(v);
    const k = key.toLowerCase();
    if (COUNT.test(k) || Number.isInteger(v) || Math.abs(v) >= 1000) return whole(v);
    if (/(_seconds|_s)$/.test(k)) return v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    if (/(_mb|_mib|_gb)$/.test(k)) return v.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    return v.toFixed(4);
  }
  function formatMetric(v, key, metrics) {
    const prefix = key.includes("_") ? key.slice(0, key.lastIndexOf("_")) : key;
    if (key !== prefix + "_evaluated" && metrics[prefix + "_evaluated"] === 0) return NOT_EVALUATED;
    if (v === null && metrics[prefix + "_oov_ratio"] === 1) return NOT_EVALUATED;
    return formatValue(v, key);
  }
  window.TrainyardFormat = { formatValue, formatMetric };
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
    const metrics = job.metrics || {};
    for (const [k, v] of Object.entries(metrics)) {
      if (typeof v === "object" && v !== null) continue;
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = formatMetric(v, k, metrics);
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
        .map(([k, v]) => k + " " + formatValue(v, k)).join(" · ");
    }
    if (e.kind === "status") {
      const extra = Object.entries(p).filter(([k]) => k !== "status").map(([k, v]) => k + " " + formatValue(v, k)).join(", ");
      return p.status + (extra ? " (" + extra + ")" : "");
    }
    if (p.message) return e.kind + " " + p.message;
    const details = Object.entries(p).map(([k, v]) => k + " " + formatValue(v, k)).join(", ");
    return e.kind + (details ? " (" + details + ")" : "");
  }

  async function pollEvents() {
    const res = await fetch(root.dataset.events + "?after=" + lastEvent, { headers: { Accept: "application/json" } });
    if (!res.ok) return;
    const ol = document.getElementById("timeline");
    let epochs = false;
    for (const e of (await res.json()).items) {
      const li = document.createElement("li"); li.dataset.id = e.id;
      const time = document.createElement("time"); time.textContent = e.at.slice(0, 19).replace("T", " ");
      li.append(time, " " + describe(e));
      ol.append(li); lastEvent = Math.max(lastEvent, e.id);
      if (e.kind === "epoch") { addEpoch(e.payload); epochs = true; }
      if (e.kind === "log") logLines.push(e.at.slice(11, 19) + " " + (e.payload.message || ""));
    }
    if (epochs) drawCharts();
    const log = document.getElementById("log");
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = logLines.slice(-1000).join("\n");
    if (atEnd) log.scrollTop = log.scrollHeight;  // follow the tail unless the person scrolled up
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
