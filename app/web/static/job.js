// Live job page: polls the JSON API until the job ends; no reload, no external library.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const fmt = (v) => (typeof v === "number" ? v.toFixed(4) : String(v));
  let lastEvent = 0;
  document.querySelectorAll("#timeline li").forEach((li) => { lastEvent = Math.max(lastEvent, +li.dataset.id); });

  function render(job) {
    const pct = (job.progress * 100).toFixed(1);
    document.getElementById("bar").style.width = pct + "%";
    document.getElementById("pct").textContent = pct;
    document.getElementById("epoch").textContent = job.epoch;
    document.getElementById("total").textContent = job.total_epochs;
    document.getElementById("attempt").textContent = job.attempt;
    document.getElementById("status").innerHTML = '<span class="badge badge-' + job.status + '">' + job.status + "</span>";
    const dl = document.getElementById("metrics");
    dl.replaceChildren();
    for (const [k, v] of Object.entries(job.metrics || {})) {
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
  }

  async function poll() {
    try {
      const [jobRes, evRes] = await Promise.all([
        fetch(root.dataset.api, { headers: { Accept: "application/json" } }),
        fetch(root.dataset.events + "?after=" + lastEvent, { headers: { Accept: "application/json" } }),
      ]);
      if (evRes.ok) {
        const ol = document.getElementById("timeline");
        for (const e of (await evRes.json()).items) {
          const li = document.createElement("li"); li.dataset.id = e.id;
          li.textContent = e.at.slice(0, 19).replace("T", " ") + " " + e.kind + " " + JSON.stringify(e.payload);
          ol.append(li); lastEvent = Math.max(lastEvent, e.id);
        }
      }
      if (jobRes.ok) {
        const job = await jobRes.json();
        render(job);
        if (["succeeded", "failed", "cancelled"].includes(job.status)) return;
      }
    } catch (e) { /* the server may be restarting: keep polling */ }
    setTimeout(poll, 1000);
  }
  if (root.dataset.done !== "true") setTimeout(poll, 500);
})();
