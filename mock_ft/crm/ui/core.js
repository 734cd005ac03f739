// What every part of the dashboard shares: the control API client, escaping, formatting.

export const $ = (sel, root = document) => root.querySelector(sel);
export const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
export const json = (v) => esc(JSON.stringify(v, null, 2));
export const ms = (v) => (v == null ? "–" : v < 1000 ? `${v.toFixed(0)} ms` : `${(v / 1000).toFixed(2)} s`);
// 24-hour clock: one line in the table, however narrow the column.
export const when = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });
export const state = { token: sessionStorage.getItem("mockft-token"), filters: {}, oldest: null, newest: 0, selected: null, playersCursor: null };

// Raised when the mock does not answer at all (as opposed to answering an error).
export class Unreachable extends Error {}

export async function request(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  // Every change is JSON, even without a body: the mock refuses other changes (pages on other sites can send those).
  if (options.method && options.method !== "GET") headers["Content-Type"] = "application/json";
  if (options.body && typeof options.body !== "string") options.body = JSON.stringify(options.body);
  let response;
  try { response = await fetch(path, { ...options, headers }); } catch (err) { throw new Unreachable("the mock is not answering"); }
  if (response.status === 401) { $("#token-box").hidden = false; throw new Error("the control token is needed: enter it above"); }
  return response;
}

export async function api(path, options = {}) {
  const response = await request(path, options);
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) { const err = new Error(body?.message || `HTTP ${response.status}`); err.body = body; throw err; }
  return body;
}

export async function apiText(path) {
  const response = await request(path);
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${path}`);
  return response.text();
}

export function badge(verdict) { return `<span class="badge ${esc(verdict)}">${esc(verdict)}</span>`; }
