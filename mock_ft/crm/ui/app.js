// mock-ft dashboard: plain JavaScript over the mock's own control API (/_mock/), no build step.
// Live journal via server-sent events read with fetch (so a control token can be sent).

import { $, api, badge, esc, json, ms, state, when } from "./core.js";
import { chartsStale, loadCharts } from "./charts.js";
import { empty, hints, setDown, viewFailed, viewLoaded, watchHealth } from "./states.js";
import { addFault, loadCallbacks, loadFaults, loadLookups, loadPlayers, loadRuns, problems, showCallback, showPlayer } from "./views.js";

// -- journal ---------------------------------------------------------------------------------
function matches(e) {
  const f = state.filters;
  return (!f.type || e.event_type === f.type) && (!f.user_id || e.user_id === f.user_id)
    && (!f.verdict || e.verdict === f.verdict) && (!f.transport || e.transport === f.transport);
}
// Why an attempt was refused when no field of it was at fault (unknown path, bad key, a fault).
function reason(e) {
  const first = e.errors[0] || e.warnings[0];
  if (first) return `<code>${esc(first.path)}</code> ${esc(first.message)}`;
  if (e.fault) {
    const what = e.fault.action === "status" ? `answered ${e.status_code}` : e.fault.action.replaceAll("_", " ");
    return `fault rule #${esc(e.fault.rule)}: ${esc(what)}${e.fault.retry_after != null ? `, Retry-After ${esc(e.fault.retry_after)} s` : ""}`;
  }
  return e.error_code ? `<span class="reason">${esc(e.error_code.replaceAll("_", " "))}</span>` : "";
}
function eventRow(e, fresh) {
  const tr = document.createElement("tr");
  tr.dataset.id = e.id;
  if (fresh) tr.className = "new";
  const what = e.event_type ? esc(e.event_type) : `<code class="path">${esc(e.method || "")} ${esc(e.path || e.transport)}</code>`;
  tr.innerHTML = `<td><button class="link" type="button" aria-label="Event ${e.id} details">${e.id}</button></td>
    <td class="time">${when(e.received_at)}</td><td>${what}</td><td>${esc(e.user_id || "–")}</td>
    <td>${esc(e.transport)}</td><td class="nowrap">${badge(e.verdict)} ${e.status_code || ""}</td><td class="nowrap">${ms(e.latency_ms)}</td>
    <td><span class="cut">${reason(e)}</span></td>`;
  tr.lastElementChild.title = tr.lastElementChild.textContent;  // the whole text, when cut to one line
  return tr;
}
function journalEmpty() {
  const none = !$("#events tbody").rows.length;
  $("#events").hidden = none;
  const filtered = Object.values(state.filters).some(Boolean);
  empty("#events-empty", none ? (filtered ? hints().filtered : hints().journal) : "");
}
async function loadEvents(older = false) {
  const params = new URLSearchParams({ order: "desc", limit: "100" });
  for (const [k, v] of Object.entries(state.filters)) if (v) params.set(k, v);
  if (older && state.oldest) params.set("before_id", state.oldest);
  const page = await api(`/_mock/events?${params}`);
  const body = $("#events tbody");
  if (!older) body.innerHTML = "";
  for (const e of page.data) body.append(eventRow(e, false));
  if (page.data.length) {
    state.oldest = page.data[page.data.length - 1].id;
    if (!older) state.newest = Math.max(state.newest, page.data[0].id);
  }
  $("#older").hidden = page.data.length < 100;
  journalEmpty();
}
async function showEvent(id) {
  state.selected = id;
  document.querySelectorAll("#events tr.selected").forEach((r) => r.classList.remove("selected"));
  document.querySelector(`#events tr[data-id="${id}"]`)?.classList.add("selected");
  const e = await api(`/_mock/events/${id}`);
  const lookups = e.lookups.map((l) => `<tr><td>${esc(l.endpoint)}</td><td>${l.status_code ?? esc(l.error)}</td><td>${badge(l.ok ? "ok" : "failed")}</td><td>${ms(l.latency_ms)}</td></tr>`).join("");
  const calls = e.callbacks.map((c) => `<tr><td>${esc(c.rule_id)}</td><td>${c.status_code ?? "–"}</td><td>${badge(c.ok ? "ok" : "failed")}</td><td>${c.attempts.length}</td></tr>`).join("");
  const detail = $("#event-detail");
  detail.innerHTML = `<button type="button" class="close" id="close-detail" aria-label="Close the event detail">×</button>
    <h3>Event #${e.id}: ${esc(e.event_type || `${e.method || ""} ${e.path || ""}`)} ${badge(e.verdict)}</h3>
    <dl class="kv"><dt>user</dt><dd>${e.user_id ? `<a href="#players/${encodeURIComponent(e.user_id)}">${esc(e.user_id)}</a>` : "–"}</dd>
    <dt>received</dt><dd>${new Date(e.received_at * 1000).toISOString()} via ${esc(e.transport)} ${esc(e.method || "")} ${esc(e.path || "")}</dd>
    <dt>answer</dt><dd>${e.status_code} ${esc(e.error_code || "")}</dd><dt>delivery latency</dt><dd>${ms(e.latency_ms)}</dd>
    ${e.duplicate_of ? `<dt>duplicate of</dt><dd><button class="link" type="button" data-event="${e.duplicate_of}">#${e.duplicate_of}</button></dd>` : ""}
    ${e.fault ? `<dt>fault</dt><dd>rule #${esc(e.fault.rule)} ${esc(e.fault.action)}</dd>` : ""}</dl>
    ${e.errors.length ? `<h4 class="rejected">Errors</h4>${problems(e.errors)}` : ""}
    ${e.warnings.length ? `<h4 class="faulted">Warnings</h4>${problems(e.warnings)}` : ""}
    <h4>Payload</h4><pre>${json(e.payload)}</pre>
    <h4>Lookups it caused</h4>${lookups ? `<table class="grid"><tbody>${lookups}</tbody></table>` : '<p class="muted">none</p>'}
    <h4>Callbacks it caused</h4>${calls ? `<table class="grid"><tbody>${calls}</tbody></table>` : '<p class="muted">none</p>'}`;
  detail.hidden = false;
  $("#journal-split").classList.add("open");  // the table shares the width only while a detail is open
  if (matchMedia("(max-width: 1100px)").matches) detail.scrollIntoView({ block: "start" });  // below the table there
}
function closeEvent() {
  $("#event-detail").hidden = true;
  $("#journal-split").classList.remove("open");
  document.querySelectorAll("#events tr.selected").forEach((r) => r.classList.remove("selected"));
}
function onStreamed(events) {
  const body = $("#events tbody");
  for (const e of events) {
    state.newest = Math.max(state.newest, e.id);
    if (matches(e) && !body.querySelector(`tr[data-id="${e.id}"]`)) body.prepend(eventRow(e, true));
  }
  while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);  // bounded, however busy
  journalEmpty();
  chartsStale(!$("#view-charts").hidden, (err) => viewFailed("charts", err));
}
async function stream() {
  for (;;) {
    try {
      const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
      const response = await fetch(`/_mock/stream?after_id=${state.newest}`, { headers });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      $("#live").textContent = "live"; $("#live").classList.add("on");
      setDown(false);
      const reader = response.body.getReader(); const decoder = new TextDecoder(); let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          const data = message.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("");
          if (data) onStreamed(JSON.parse(data));
        }
      }
    } catch (err) { if (err instanceof TypeError) setDown(true); }  // TypeError: no answer at all
    $("#live").textContent = "reconnecting…"; $("#live").classList.remove("on");
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// -- routing and wiring ----------------------------------------------------------------------
const loaders = { journal: () => loadEvents(), charts: loadCharts, players: () => loadPlayers(), callbacks: loadCallbacks, lookups: loadLookups, faults: loadFaults, runs: loadRuns };
async function route() {
  const [view, arg] = (location.hash.slice(1) || "journal").split("/");
  const name = loaders[view] ? view : "journal";
  document.querySelectorAll(".view").forEach((s) => { s.hidden = s.id !== `view-${name}`; });
  document.querySelectorAll("nav a").forEach((a) => a.setAttribute("aria-current", a.hash === `#${name}` ? "page" : "false"));
  try {
    await loaders[name]();
    if (name === "players" && arg) await showPlayer(decodeURIComponent(arg));
    viewLoaded(name);
  } catch (err) { viewFailed(name, err); }
}
document.addEventListener("click", async (event) => {
  const t = event.target.closest("button, tr");
  if (!t) return;
  if (t.id === "close-detail") closeEvent();
  else if (t.dataset.event) { location.hash = "#journal"; await showEvent(Number(t.dataset.event)); }
  else if (t.closest("#events tbody") && t.matches("button")) await showEvent(Number(t.closest("tr").dataset.id));
  else if (t.dataset.callback) showCallback(JSON.parse(t.closest("tr").dataset.record));
  else if (t.dataset.fault) { await api(`/_mock/faults/${t.dataset.fault}`, { method: "DELETE" }); await loadFaults(); }
  else if (t.dataset.set) { await api(`/_mock/callbacks/sets/${t.dataset.set}`, { method: "POST" }).catch((e) => alert(e.message)); await loadCallbacks(); }
});
document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !$("#event-detail").hidden) closeEvent(); });
$("#filters").addEventListener("submit", async (event) => { event.preventDefault(); state.filters = Object.fromEntries(new FormData(event.target)); await loadEvents(); });
$("#filters").addEventListener("reset", async () => { state.filters = {}; setTimeout(loadEvents, 0); });
$("#older").addEventListener("click", () => loadEvents(true));
$("#more-players").addEventListener("click", () => loadPlayers(true));
$("#fault-form").addEventListener("submit", (event) => { event.preventDefault(); addFault(event.target); });
$("#clear-faults").addEventListener("click", async () => { await api("/_mock/faults", { method: "DELETE" }); await loadFaults(); });
$("#token-form").addEventListener("submit", (event) => { event.preventDefault(); state.token = $("#token").value; sessionStorage.setItem("mockft-token", state.token); $("#token-box").hidden = true; route(); });
window.addEventListener("hashchange", route);
setInterval(() => { if (!$("#view-runs").hidden) loadRuns().then(() => viewLoaded("runs"), (err) => viewFailed("runs", err)); }, 5000);
api("/_mock/stats").then((s) => { $("#types").innerHTML = Object.keys(s.by_type).map((t) => `<option value="${esc(t)}">`).join(""); }).catch(() => {});
watchHealth();
route().then(stream);
