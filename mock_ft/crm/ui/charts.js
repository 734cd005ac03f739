// The Charts view: SVG drawn by the mock (/_mock/charts/NAME.svg, from /_mock/series), swapped
// into place one chart at a time when the event stream reports new attempts; the page stays.

import { $, api, apiText } from "./core.js";

const NAMES = ["rate", "latency", "attempts", "lookups"];
const tz = -new Date().getTimezoneOffset();  // the time axis in the reader's own clock
let pending = null;
let last = 0;

// Drawn at the width it is shown at, so its text is as legible on a phone as on a desktop.
const widthOf = (box) => Math.min(1600, Math.max(320, Math.round(box.clientWidth || 560)));

// All four from one reading of the journal; each swapped into its own box.
export async function loadCharts() {
  last = Date.now();
  const charts = await api(`/_mock/charts/all?tz=${tz}&width=${widthOf($("#chart-rate"))}`);
  for (const name of NAMES) $(`#chart-${name}`).innerHTML = charts[name];
}

// New attempts arrived: redraw soon, at most once a second however busy the stream is.
export function chartsStale(visible, onError) {
  if (!visible || pending) return;
  const wait = Math.max(0, 1000 - (Date.now() - last));
  pending = setTimeout(() => { pending = null; loadCharts().catch(onError); }, wait);
}

export async function loadStepsChart() {
  const box = $("#chart-steps");
  box.innerHTML = await apiText(`/_mock/charts/steps.svg?width=${widthOf(box)}`);
}
