// One metric's whole history as a uPlot line chart, downsampled on the server to about two
// points per pixel (min and max per step bucket), so a 100k-step metric sends a few thousand.

import uPlot from "./vendor/uPlot.esm.js";
import { getJson } from "./api.js";
import { h } from "./dom.js";

const WIDTH = 460;
const HEIGHT = 220;

export async function metricChart(runId, key) {
  const data = await getJson(`/api/shipyard/v1/runs/${runId}/metrics/${encodeURIComponent(key)}`, {
    max_points: WIDTH * 2,
  });
  const figure = h("figure", { class: "chart", dataset: { metric: key, points: data.steps.length, total: data.total } });
  const note = data.downsampled ? ` · ${data.steps.length} of ${data.total} points (min/max per bucket)` : ` · ${data.total} points`;
  figure.append(h("figcaption", {}, h("strong", {}, key), note));
  const plot = h("div", { role: "img", "aria-label": `Chart of ${key} over ${data.total} steps` });
  figure.append(plot);
  const options = {
    width: WIDTH, height: HEIGHT,
    scales: { x: { time: false } },
    legend: { show: false },
    axes: [{ label: "step" }, {}],
    series: [{}, { label: key, stroke: "#1f6feb", width: 1.5, points: { show: data.steps.length < 50 } }],
  };
  // uPlot measures its root, so it is drawn once the figure is in the document.
  requestAnimationFrame(() => new uPlot(options, [data.steps, data.values], plot));
  return figure;
}
