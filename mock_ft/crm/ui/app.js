// mock-ft dashboard: plain JavaScript over the mock's own control API (/_mock/), no build step.
// Live journal via server-sent events read with fetch (so a control token can be sent).

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const json = (v) => esc(JSON.stringify(v, null, 2));
const ms = (v) => (v == null ? "–" : v < 1000 ? `${v.toFixed(0)} ms` : `${(v / 1000).toFixed(2)} s`);
const when = (t) => new Date(t * 1000).toLocaleTimeString();
const state = { token: sessionStorage.getItem("mockft-token"), filters: {}, oldest: null, newest: 0, selected: null, playersCursor: null };

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  // Every change is JSON, even without a body: the mock refuses other changes (pages on other sites can send those).
  if (options.method && options.method !== "GET") headers["Content-Type"] = "application/json";
  if (options.body && typeof options.body !== "string") options.body = JSON.stringify(options.body);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { $("#token-box").hidden = false; throw new Error("control token needed"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) { const err = new Error(body?.message || `HTTP ${response.status}`); err.body = body; throw err; }
  return body;
}

function badge(verdict) { return `<span class="badge ${esc(verdict)}">${esc(verdict)}</span>`; }
function problems(list) {
  if (!list?.length) return "";
  return `<ul class="problems">${list.map((p) => `<li><code>${esc(p.path)}</code> ${esc(p.code)}: ${esc(p.message)}</li>`).join("")}</ul>`;
}

// -- journal ---------------------------------------------------------------------------------
function matches(e) {
  const f = state.filters;
  return (!f.type || e.event_type === f.type) && (!f.user_id || e.user_id === f.user_id)
    && (!f.verdict || e.verdict === f.verdict) && (!f.transport || e.transport === f.transport);
}
function eventRow(e, fresh) {
  const first = (e.errors[0] || e.warnings[0]);
  const tr = document.createElement("tr");
  tr.dataset.id = e.id;
  if (fresh) tr.className = "new";
  tr.innerHTML = `<td><button class="link" type="button" aria-label="Event ${e.id} details">${e.id}</button></td>
    <td>${when(e.received_at)}</td><td>${esc(e.event_type || "–")}</td><td>${esc(e.user_id || "–")}</td>
    <td>${esc(e.transport)}</td><td>${badge(e.verdict)} ${e.status_code || ""}</td><td>${ms(e.latency_ms)}</td>
    <td>${first ? `<code>${esc(first.path)}</code> ${esc(first.message)}` : ""}</td>`;
  return tr;
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
}
async function showEvent(id) {
  state.selected = id;
  document.querySelectorAll("#events tr.selected").forEach((r) => r.classList.remove("selected"));
  document.querySelector(`#events tr[data-id="${id}"]`)?.classList.add("selected");
  const e = await api(`/_mock/events/${id}`);
  const lookups = e.lookups.map((l) => `<tr><td>${esc(l.endpoint)}</td><td>${l.status_code ?? esc(l.error)}</td><td>${badge(l.ok ? "ok" : "failed")}</td><td>${ms(l.latency_ms)}</td></tr>`).join("");
  const calls = e.callbacks.map((c) => `<tr><td>${esc(c.rule_id)}</td><td>${c.status_code ?? "–"}</td><td>${badge(c.ok ? "ok" : "failed")}</td><td>${c.attempts.length}</td></tr>`).join("");
  $("#event-detail").innerHTML = `<h3>Event #${e.id}: ${esc(e.event_type || "?")} ${badge(e.verdict)}</h3>
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
}
function onStreamed(events) {
  const body = $("#events tbody");
  for (const e of events) {
    state.newest = Math.max(state.newest, e.id);
    if (matches(e) && !body.querySelector(`tr[data-id="${e.id}"]`)) body.prepend(eventRow(e, true));
  }
  while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);  // bounded, however busy
}
async function stream() {
  for (;;) {
    try {
      const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
      const response = await fetch(`/_mock/stream?after_id=${state.newest}`, { headers });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      $("#live").textContent = "live"; $("#live").classList.add("on");
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
    } catch (err) { /* the mock restarted or went away: retry below */ }
    $("#live").textContent = "reconnecting…"; $("#live").classList.remove("on");
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// -- players ---------------------------------------------------------------------------------
async function loadPlayers(more = false) {
  const params = new URLSearchParams({ limit: "50" });
  if (more && state.playersCursor) params.set("after", state.playersCursor);
  const page = await api(`/_mock/players?${params}`);
  const body = $("#players tbody");
  if (!more) body.innerHTML = "";
  for (const p of page.data) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><a href="#players/${encodeURIComponent(p.user_id)}">${esc(p.user_id)}</a></td><td>${p.event_count}</td>
      <td>${p.deposit_count}</td><td>${p.deposit_total_base}</td><td>${p.withdrawal_count}</td><td>${p.active_bonus_count}</td>
      <td>${p.blocked == null ? "–" : p.blocked ? "yes" : "no"}</td>`;
    body.append(tr);
  }
  state.playersCursor = page.next_cursor;
  $("#more-players").hidden = !page.next_cursor;
}
async function showPlayer(userId) {
  const [p, events] = await Promise.all([
    api(`/_mock/players/${encodeURIComponent(userId)}`),
    api(`/_mock/events?user_id=${encodeURIComponent(userId)}&limit=500`),
  ]);
  const keys = ["registered_at", "last_login_at", "login_count", "deposit_count", "deposit_total_base", "first_deposit_at",
    "withdrawal_count", "withdrawal_total_base", "withdrawal_requested_count", "active_bonus_count", "casino_turnover_base",
    "sportsbook_turnover_base", "blocked", "excluded"];
  const timeline = events.data.map((e) => `<li><button class="link" type="button" data-event="${e.id}">#${e.id}</button> ${when(e.received_at)}
    ${esc(e.event_type)} ${esc(e.payload?.type || "")} ${esc(e.payload?.status || "")} ${e.payload?.amount != null ? esc(e.payload.amount) + " " + esc(e.payload.currency || "") : ""} ${badge(e.verdict)}</li>`).join("");
  $("#player-detail").innerHTML = `<h3>Player ${esc(p.user_id)}</h3>
    <dl class="kv">${keys.map((k) => `<dt>${k.replaceAll("_", " ")}</dt><dd>${esc(p[k] ?? "–")}</dd>`).join("")}</dl>
    <h4>Active bonuses</h4>${Object.keys(p.active_bonuses).length ? `<pre>${json(p.active_bonuses)}</pre>` : '<p class="muted">none</p>'}
    <h4>Profile (from /userdetails)</h4>${p.profile ? `<pre>${json(p.profile)}</pre>` : '<p class="muted">no valid lookup yet</p>'}
    <h4>Consents</h4>${p.consents ? `<pre>${json(p.consents)}</pre>` : '<p class="muted">none</p>'}
    <h4>Timeline</h4><ol class="timeline">${timeline}</ol>`;
}

// -- callbacks and lookups -------------------------------------------------------------------
async function loadCallbacks() {
  const [rules, calls] = await Promise.all([api("/_mock/callbacks/rules"), api("/_mock/callbacks?limit=1000")]);
  $("#rules").innerHTML = `<p>Rules loaded: ${rules.data.map((r) => `<code>${esc(r.id)}</code> (${esc(r.trigger.event)})`).join(", ") || "none"}.
    Ready-made sets: ${rules.sets.map((s) => `<button type="button" data-set="${esc(s)}">load ${esc(s)}</button>`).join(" ")}</p>`;
  const body = $("#callbacks tbody"); body.innerHTML = "";
  for (const c of calls.data.reverse()) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><button class="link" type="button" data-callback="${c.id}">${c.id}</button></td><td>${esc(c.rule_id)}</td>
      <td><button class="link" type="button" data-event="${c.event_id}">#${c.event_id}</button></td><td>${esc(c.user_id)}</td>
      <td>${badge(c.ok ? "ok" : "failed")} ${c.status_code ?? ""}</td><td>${c.attempts.length}</td><td>${ms(c.latency_ms)}</td>`;
    tr.dataset.record = JSON.stringify(c);
    body.append(tr);
  }
}
function showCallback(c) {
  const attempts = c.attempts.map((a, i) => `<li>attempt ${i + 1}: ${a.status_code ?? "no answer"} ${ms(a.latency_ms)} ${esc(a.error || "")}</li>`).join("");
  $("#callback-detail").innerHTML = `<h3>Callback #${c.id}: ${esc(c.rule_id)} ${badge(c.ok ? "ok" : "failed")}</h3>
    <p><code>${esc(c.method)} ${esc(c.url)}</code></p><h4>Headers (secrets masked)</h4><pre>${json(c.request_headers)}</pre>
    <h4>Body</h4><pre>${json(c.request_body)}</pre><h4>Attempts</h4><ol>${attempts}</ol>
    <h4>Answer</h4><pre>${esc(c.response || "–")}</pre>${c.notes.length ? `<h4>Notes</h4><ul>${c.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}`;
}
async function loadLookups() {
  const page = await api("/_mock/lookups?limit=1000");
  const body = $("#lookups tbody"); body.innerHTML = "";
  for (const l of page.data.reverse()) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${l.id}</td><td>${esc(l.endpoint)}</td><td>${esc(l.user_id)}</td><td>#${l.event_id}</td>
      <td>${badge(l.ok ? "ok" : "failed")} ${l.status_code ?? esc(l.error)}</td><td>${ms(l.latency_ms)}</td><td>${problems(l.problems)}</td>`;
    body.append(tr);
  }
}

// -- faults ----------------------------------------------------------------------------------
async function loadFaults() {
  const rules = await api("/_mock/faults");
  const body = $("#faults tbody"); body.innerHTML = "";
  for (const r of rules.data) {
    const words = Object.entries(r).filter(([k, v]) => v != null && !["id", "hits"].includes(k) && !(k === "probability" && v === 1)).map(([k, v]) => `${k}=${v}`).join(" ");
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${r.id}</td><td><code>${esc(words)}</code></td><td>${r.hits}</td><td><button type="button" data-fault="${r.id}">Remove rule ${r.id}</button></td>`;
    body.append(tr);
  }
}
async function addFault(form) {
  const rule = {};
  for (const [k, v] of new FormData(form)) if (v !== "") rule[k] = ["action", "event_type", "user_id", "transport"].includes(k) ? v : Number(v);
  if (rule.action !== "status") delete rule.status;
  try {
    await api("/_mock/faults", { method: "POST", body: rule });
    $("#fault-error").textContent = "";
    await loadFaults();
  } catch (err) {
    const list = err.body?.problems?.map((p) => `${p.path}: ${p.message}`).join("; ");
    $("#fault-error").textContent = list || err.message;
  }
}

// -- runs and charts -------------------------------------------------------------------------
function bars(data, { label, value, width = 420, colour = "#1f4fbf", max } = {}) {
  if (!data.length) return '<p class="muted">no data yet</p>';
  const top = max ?? Math.max(1, ...data.map(value)); const row = 22; const left = 175; const height = data.length * row + 4;
  const items = data.map((d, i) => {
    const w = Math.round(((width - left - 40) * value(d)) / top);
    return `<text x="0" y="${i * row + 15}">${esc(label(d))}</text><rect x="${left}" y="${i * row + 4}" width="${w}" height="14" fill="${colour}" rx="2"></rect>
      <text x="${left + w + 4}" y="${i * row + 15}">${value(d)}</text>`;
  }).join("");
  return `<svg role="img" aria-label="bar chart" viewBox="0 0 ${width} ${height}" width="100%">${items}</svg>`;
}
function columns(data, width = 420, height = 120) {
  if (!data.length) return '<p class="muted">no events in the last 2 minutes</p>';
  const top = Math.max(...data.map((d) => d.count)); const first = data[0].second; const span = Math.max(1, data[data.length - 1].second - first + 1);
  const w = Math.max(2, (width - 10) / span);
  const rects = data.map((d) => `<rect x="${((d.second - first) * (width - 10)) / span}" y="${height - 16 - ((height - 26) * d.count) / top}" width="${w}" height="${((height - 26) * d.count) / top}" fill="#0f6b2f"><title>${when(d.second)}: ${d.count}/s</title></rect>`).join("");
  return `<svg role="img" aria-label="events per second, peak ${top}" viewBox="0 0 ${width} ${height}" width="100%">${rects}<text x="0" y="${height - 2}">peak ${top}/s</text></svg>`;
}
async function loadRuns() {
  const [verify, replay, charts] = await Promise.all([api("/_mock/runs?kind=verify&limit=1"), api("/_mock/runs?kind=replay&limit=1"), api("/_mock/charts")]);
  const run = verify.data[0];
  if (run) {
    const checks = run.document.checks || [];
    const failed = checks.filter((c) => !c.passed);
    const steps = [...new Set(checks.map((c) => c.step))].map((step) => ({ step, passed: checks.filter((c) => c.step === step && c.passed).length, total: checks.filter((c) => c.step === step).length }));
    $("#scorecard").innerHTML = `<p class="verdict ${run.passed ? "passed" : "failed"}">${run.passed ? "READY for go-live" : "NOT READY"}: ${checks.length - failed.length} of ${checks.length} checks passed
      <span class="muted">(verify at ${new Date(run.received_at * 1000).toLocaleString()}, operator ${esc(run.document.operator_url)})</span></p>
      ${failed.length ? `<h3>What to fix</h3><ul>${failed.map((c) => `<li><strong>${esc(c.step)}</strong>: ${esc(c.name)}: ${esc(c.message)}</li>`).join("")}</ul>` : ""}`;
    $("#chart-steps").innerHTML = bars(steps, { label: (d) => d.step, value: (d) => d.passed, colour: "#0f6b2f" });
  }
  $("#chart-latency").innerHTML = bars(charts.latency, { label: (d) => d.label, value: (d) => d.count });
  $("#chart-rate").innerHTML = columns(charts.rate);
  const r = replay.data[0];
  $("#replays").innerHTML = r ? `<h3>Latest scenario replay: ${badge(r.passed ? "passed" : "failed")} ${esc(r.document.counts.passed)} passed, ${esc(r.document.counts.failed)} failed, ${esc(r.document.counts.skipped)} skipped</h3>
    <table class="grid"><thead><tr><th scope="col">scenario</th><th scope="col">result</th><th scope="col">time</th><th scope="col">detail</th></tr></thead><tbody>
    ${r.document.scenarios.map((s) => { const bad = s.steps.find((st) => st.status === "failed"); return `<tr><td>${esc(s.name)}</td><td>${badge(s.status)}</td><td>${s.seconds.toFixed(2)} s</td><td>${bad ? `${esc(bad.label)}: ${esc(bad.message)}` : esc(s.reason)}</td></tr>`; }).join("")}</tbody></table>` : "";
}

// -- routing and wiring ----------------------------------------------------------------------
const loaders = { journal: () => loadEvents(), players: () => loadPlayers(), callbacks: loadCallbacks, lookups: loadLookups, faults: loadFaults, runs: loadRuns };
async function route() {
  const [view, arg] = (location.hash.slice(1) || "journal").split("/");
  const name = loaders[view] ? view : "journal";
  document.querySelectorAll(".view").forEach((s) => { s.hidden = s.id !== `view-${name}`; });
  document.querySelectorAll("nav a").forEach((a) => a.setAttribute("aria-current", a.hash === `#${name}` ? "page" : "false"));
  try {
    await loaders[name]();
    if (name === "players" && arg) await showPlayer(decodeURIComponent(arg));
  } catch (err) { console.warn(err); }
}
document.addEventListener("click", async (event) => {
  const t = event.target.closest("button, tr");
  if (!t) return;
  if (t.dataset.event) { location.hash = "#journal"; await showEvent(Number(t.dataset.event)); }
  else if (t.closest("#events tbody") && t.matches("button")) await showEvent(Number(t.closest("tr").dataset.id));
  else if (t.dataset.callback) showCallback(JSON.parse(t.closest("tr").dataset.record));
  else if (t.dataset.fault) { await api(`/_mock/faults/${t.dataset.fault}`, { method: "DELETE" }); await loadFaults(); }
  else if (t.dataset.set) { await api(`/_mock/callbacks/sets/${t.dataset.set}`, { method: "POST" }).catch((e) => alert(e.message)); await loadCallbacks(); }
});
$("#filters").addEventListener("submit", async (event) => { event.preventDefault(); state.filters = Object.fromEntries(new FormData(event.target)); await loadEvents(); });
$("#filters").addEventListener("reset", async () => { state.filters = {}; setTimeout(loadEvents, 0); });
$("#older").addEventListener("click", () => loadEvents(true));
$("#more-players").addEventListener("click", () => loadPlayers(true));
$("#fault-form").addEventListener("submit", (event) => { event.preventDefault(); addFault(event.target); });
$("#clear-faults").addEventListener("click", async () => { await api("/_mock/faults", { method: "DELETE" }); await loadFaults(); });
$("#token-form").addEventListener("submit", (event) => { event.preventDefault(); state.token = $("#token").value; sessionStorage.setItem("mockft-token", state.token); $("#token-box").hidden = true; route(); });
window.addEventListener("hashchange", route);
setInterval(() => { if (!$("#view-runs").hidden) loadRuns().catch(() => {}); }, 5000);
api("/_mock/stats").then((s) => { $("#types").innerHTML = Object.keys(s.by_type).map((t) => `<option value="${esc(t)}">`).join(""); }).catch(() => {});
route().then(stream);
