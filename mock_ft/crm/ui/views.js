// The Players, Callbacks, Lookups, Faults and Runs views.

import { $, api, badge, esc, json, ms, state, when } from "./core.js";
import { loadStepsChart } from "./charts.js";
import { empty, hints } from "./states.js";

export function problems(list) {
  if (!list?.length) return "";
  return `<ul class="problems">${list.map((p) => `<li><code>${esc(p.path)}</code> ${esc(p.code)}: ${esc(p.message)}</li>`).join("")}</ul>`;
}

// -- players ---------------------------------------------------------------------------------
export async function loadPlayers(more = false) {
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
  const none = !body.rows.length;
  $("#players").hidden = none;
  $("#player-detail").hidden = none;
  empty("#players-empty", none ? hints().players : "");
  state.playersCursor = page.next_cursor;
  $("#more-players").hidden = !page.next_cursor;
}
export async function showPlayer(userId) {
  const [p, events] = await Promise.all([
    api(`/_mock/players/${encodeURIComponent(userId)}`),
    api(`/_mock/events?user_id=${encodeURIComponent(userId)}&limit=500`),
  ]);
  const keys = ["registered_at", "last_login_at", "login_count", "deposit_count", "deposit_total_base", "first_deposit_at",
    "withdrawal_count", "withdrawal_total_base", "withdrawal_requested_count", "active_bonus_count", "casino_turnover_base",
    "sportsbook_turnover_base", "blocked", "excluded"];
  const timeline = events.data.map((e) => `<li><button class="link" type="button" data-event="${e.id}">#${e.id}</button> <span class="time">${when(e.received_at)}</span>
    ${esc(e.event_type)} ${esc(e.payload?.type || "")} ${esc(e.payload?.status || "")} ${e.payload?.amount != null ? esc(e.payload.amount) + " " + esc(e.payload.currency || "") : ""} ${badge(e.verdict)}</li>`).join("");
  $("#player-detail").innerHTML = `<h3>Player ${esc(p.user_id)}</h3>
    <dl class="kv">${keys.map((k) => `<dt>${k.replaceAll("_", " ")}</dt><dd>${esc(p[k] ?? "–")}</dd>`).join("")}</dl>
    <h4>Active bonuses</h4>${Object.keys(p.active_bonuses).length ? `<pre>${json(p.active_bonuses)}</pre>` : '<p class="muted">none</p>'}
    <h4>Profile (from /userdetails)</h4>${p.profile ? `<pre>${json(p.profile)}</pre>` : '<p class="muted">no valid lookup yet</p>'}
    <h4>Consents</h4>${p.consents ? `<pre>${json(p.consents)}</pre>` : '<p class="muted">none</p>'}
    <h4>Timeline</h4><ol class="timeline">${timeline}</ol>`;
}

// -- callbacks and lookups -------------------------------------------------------------------
export async function loadCallbacks() {
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
  $("#callbacks").hidden = !calls.data.length;
  $("#callback-detail").hidden = !calls.data.length;
  empty("#callbacks-empty", calls.data.length ? "" : hints().callbacks);
}
export function showCallback(c) {
  const attempts = c.attempts.map((a, i) => `<li>attempt ${i + 1}: ${a.status_code ?? "no answer"} ${ms(a.latency_ms)} ${esc(a.error || "")}</li>`).join("");
  $("#callback-detail").innerHTML = `<h3>Callback #${c.id}: ${esc(c.rule_id)} ${badge(c.ok ? "ok" : "failed")}</h3>
    <p><code>${esc(c.method)} ${esc(c.url)}</code></p><h4>Headers (secrets masked)</h4><pre>${json(c.request_headers)}</pre>
    <h4>Body</h4><pre>${json(c.request_body)}</pre><h4>Attempts</h4><ol>${attempts}</ol>
    <h4>Answer</h4><pre>${esc(c.response || "–")}</pre>${c.notes.length ? `<h4>Notes</h4><ul>${c.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}`;
}
export async function loadLookups() {
  const page = await api("/_mock/lookups?limit=1000");
  const body = $("#lookups tbody"); body.innerHTML = "";
  for (const l of page.data.reverse()) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${l.id}</td><td>${esc(l.endpoint)}</td><td>${esc(l.user_id)}</td><td>#${l.event_id}</td>
      <td>${badge(l.ok ? "ok" : "failed")} ${l.status_code ?? esc(l.error)}</td><td>${ms(l.latency_ms)}</td><td>${problems(l.problems)}</td>`;
    body.append(tr);
  }
  $("#lookups").hidden = !page.data.length;
  empty("#lookups-empty", page.data.length ? "" : hints().lookups);
}

// -- faults ----------------------------------------------------------------------------------
export async function loadFaults() {
  const rules = await api("/_mock/faults");
  const body = $("#faults tbody"); body.innerHTML = "";
  for (const r of rules.data) {
    const words = Object.entries(r).filter(([k, v]) => v != null && !["id", "hits"].includes(k) && !(k === "probability" && v === 1)).map(([k, v]) => `${k}=${v}`).join(" ");
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${r.id}</td><td><code>${esc(words)}</code></td><td>${r.hits}</td><td><button type="button" data-fault="${r.id}">Remove rule ${r.id}</button></td>`;
    body.append(tr);
  }
  $("#faults").hidden = !rules.data.length;
  $("#clear-faults").hidden = !rules.data.length;
  empty("#faults-empty", rules.data.length ? "" : hints().faults);
}
export async function addFault(form) {
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

// -- runs ------------------------------------------------------------------------------------
export async function loadRuns() {
  const [verify, replay] = await Promise.all([api("/_mock/runs?kind=verify&limit=1"), api("/_mock/runs?kind=replay&limit=1")]);
  const run = verify.data[0];
  if (run) {
    const checks = run.document.checks || [];
    const failed = checks.filter((c) => !c.passed);
    $("#scorecard").innerHTML = `<p class="verdict ${run.passed ? "passed" : "failed"}">${run.passed ? "READY for go-live" : "NOT READY"}: ${checks.length - failed.length} of ${checks.length} checks passed
      <span class="muted">(verify at ${new Date(run.received_at * 1000).toLocaleString()}, operator ${esc(run.document.operator_url)})</span></p>
      ${failed.length ? `<h3>What to fix</h3><ul>${failed.map((c) => `<li><strong>${esc(c.step)}</strong>: ${esc(c.name)}: ${esc(c.message)}</li>`).join("")}</ul>` : ""}`;
  } else {
    $("#scorecard").innerHTML = hints().runs;
  }
  $("#chart-steps").closest("figure").hidden = !run;
  if (run) await loadStepsChart();
  const r = replay.data[0];
  $("#replays").innerHTML = r ? `<h3>Latest scenario replay: ${badge(r.passed ? "passed" : "failed")} ${esc(r.document.counts.passed)} passed, ${esc(r.document.counts.failed)} failed, ${esc(r.document.counts.skipped)} skipped</h3>
    <table class="grid"><thead><tr><th scope="col">scenario</th><th scope="col">result</th><th scope="col">time</th><th scope="col">detail</th></tr></thead><tbody>
    ${r.document.scenarios.map((s) => { const bad = s.steps.find((st) => st.status === "failed"); return `<tr><td>${esc(s.name)}</td><td>${badge(s.status)}</td><td>${s.seconds.toFixed(2)} s</td><td>${bad ? `${esc(bad.label)}: ${esc(bad.message)}` : esc(s.reason)}</td></tr>`; }).join("")}</tbody></table>` : "";
}
