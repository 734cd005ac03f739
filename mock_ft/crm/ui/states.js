// The states a view can be in besides "here is data": empty (say what fills it), failed (say
// why, never an empty table that looks like data), and the whole mock away or a broker down.

import { $, esc, Unreachable } from "./core.js";

const health = { down: false, brokers: [] };

function renderBanner() {
  const banner = $("#banner");
  const troubled = health.brokers.filter((b) => b.state === "reconnecting" || b.state === "stopped");
  if (health.down) {
    banner.className = "banner down";
    banner.innerHTML = `<strong>The mock is not answering</strong> at ${esc(location.origin)}; retrying every second.
      What is shown may be out of date. Is <code>mock-ft serve</code> still running?`;
  } else if (troubled.length) {
    banner.className = "banner warn";
    banner.innerHTML = troubled.map((b) => `<strong>${esc(b.transport)} consumer ${esc(b.state)}</strong> (${esc(b.target)})${b.error ? `: ${esc(b.error)}` : ""}.
      Events published meanwhile wait in the broker.`).join("<br>");
  }
  banner.hidden = !health.down && !troubled.length;
}

export function setDown(down) {
  if (health.down === down) return;
  health.down = down;
  renderBanner();
}

async function pollHealth() {
  try {
    const response = await fetch("/_mock/health");
    const body = await response.json();
    health.brokers = body.brokers || [];
    setDown(false);
  } catch (err) { setDown(true); }
  renderBanner();
}

export function watchHealth(seconds = 3) {
  pollHealth();
  setInterval(pollHealth, seconds * 1000);
}

// Show `html` as the empty state in `box` (or hide it when the view has rows).
export function empty(box, html) {
  $(box).hidden = !html;
  $(box).innerHTML = html || "";
}

// A view whose data could not be loaded: say so, and hide its tables and charts (CSS, class
// "failed") until it loads again, so nothing stale or empty passes for data.
export function viewFailed(name, err) {
  const view = $(`#view-${name}`);
  const box = view.querySelector(".view-error");
  const why = err instanceof Unreachable ? "the mock is not answering (see the banner above)" : err.message;
  box.textContent = `Could not load this view: ${why}.`;
  box.hidden = false;
  view.classList.add("failed");
  if (err instanceof Unreachable) setDown(true);
}

export function viewLoaded(name) {
  const view = $(`#view-${name}`);
  view.querySelector(".view-error").hidden = true;
  view.classList.remove("failed");
}

// What fills each empty view: a command the reader can copy.
export function hints() {
  const origin = location.origin;
  const login = JSON.stringify({ user_id: "7001", timestamp: new Date().toISOString(), origin: "example.com", ip_address: "", user_agent: "curl", is_impersonated: false, is_verified: true });
  return {
    journal: `<p><strong>No events yet.</strong> Point your publisher at <code>${esc(origin)}</code>, or send one:</p>
      <pre>curl -X POST ${esc(origin)}/v2/integration/login -H 'X-API-Key: mock-ft-local-key' -H 'Content-Type: application/json' -d '${esc(login)}'</pre>
      <p class="muted">The key is MOCK_FT_API_KEY (mock-ft-local-key unless set). Or run everything at once: <code>mock-ft demo</code>.</p>`,
    filtered: `<p><strong>No events match these filters.</strong> Clear them to see every event.</p>`,
    players: `<p><strong>No players yet.</strong> A player appears with the first event for its user_id: send the curl shown in the Journal view, or run <code>mock-ft demo</code>.</p>`,
    callbacks: `<p><strong>No Callback Actions fired yet.</strong> Load a rule set above (or start the mock with <code>--callbacks all</code>), then send an event that matches a rule.</p>`,
    lookups: `<p><strong>No lookups yet.</strong> The mock calls your Operator API when started with <code>--operator-url</code> (e.g. <code>mock-ft serve --operator-url http://localhost:9000 --operator-auth api-key:KEY</code>).</p>`,
    faults: `<p><strong>No fault rules.</strong> Add one with the form, or (FT answers the next event 503):</p>
      <pre>curl -X POST ${esc(origin)}/_mock/faults -H 'Content-Type: application/json' -d '{"action":"status","status":503,"times":1}'</pre>`,
    runs: `<p class="muted"><strong>No verification run yet.</strong> Run <code>mock-ft verify --operator-url URL --auth api-key:KEY --user-id ID --ft-url ${esc(origin)}</code>; the scorecard shows here.</p>`,
  };
}
