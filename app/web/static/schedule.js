// Shows the next five due times of the cron and time zone being edited (asks the API as you type).
(function () {
  const cron = document.getElementById("cron"), zone = document.getElementById("timezone");
  const list = document.getElementById("next-runs");
  if (!cron || !zone || !list) return;
  let timer = null;
  async function refresh() {
    const q = new URLSearchParams({ cron: cron.value, timezone: zone.value || "UTC" });
    const r = await fetch("/api/v1/schedules/preview?" + q.toString(), { headers: { Accept: "application/json" } });
    const body = await r.json();
    list.replaceChildren();
    if (!r.ok) {
      const li = document.createElement("li");
      li.className = "field-error";
      li.textContent = Object.values(body.fields || { error: body.message }).join("; ");
      list.append(li);
      return;
    }
    for (const t of body.next_runs) {
      const li = document.createElement("li");
      li.textContent = t.slice(0, 16).replace("T", " ") + " UTC";
      list.append(li);
    }
  }
  for (const el of [cron, zone]) el.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 250); });
  refresh();
})();
