// Compare runs: their params side by side (only the ones that differ, unless asked), their
// latest metrics, one chart per metric with every run overlaid (each history downsampled on the
// server), and a parallel-coordinates view of the numeric params and metrics that differ.

import uPlot from "./vendor/uPlot.esm.js";
import { AuthRequired, getJson } from "./api.js";
import { errorBox, formatValue, h, table } from "./dom.js";

const MAX_RUNS = 100;
const MAX_CHARTS = 6;
const MAX_AXES = 8;
const WIDTH = 460;
const HEIGHT = 220;
const COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#0a7ea4", "#cf222e", "#6e7781"];

export function compareLink(experimentId, runIds) {
  return `#/experiments/${experimentId}/compare?runs=${runIds.join(",")}`;
}

export async function compareView(experimentId, query) {
  const wanted = (query.get("runs") || "").split(",").filter((id) => /^[0-9a-f]{32}$/.test(id));
  if (wanted.length < 2 || wanted.length > MAX_RUNS) {
    throw new Error(`Compare takes 2 to ${MAX_RUNS} runs: tick them in the runs table.`);
  }
  const filter = `attributes.run_id IN (${wanted.map((id) => `'${id}'`).join(", ")})`;
  const { runs } = await getJson("/api/shipyard/v1/runs", {
    experiment: experimentId, filter, max_results: MAX_RUNS, order_by: "attributes.start_time ASC",
  });
  const labels = runs.map((run) => run.name || run.run_id.slice(0, 8));
  const params = union(runs.map((run) => Object.keys(run.params)));
  const metrics = union(runs.map((run) => Object.keys(run.metrics)));
  const differing = params.filter((key) => new Set(runs.map((run) => run.params[key])).size > 1);
  return h("section", { class: "compare" },
    h("p", { class: "crumbs" }, h("a", { href: `#/experiments/${experimentId}` }, "← Runs of experiment ", experimentId)),
    h("h1", {}, `Comparing ${runs.length} runs`),
    h("h2", {}, "Parameters"), paramTable(runs, labels, params, differing),
    h("h2", {}, "Metrics (latest)"),
    metrics.length ? table(["Metric", ...labels], metrics.map((key) => [key, ...runs.map((run) => formatValue(run.metrics[key]?.value))]),
      { class: "kv", id: "compare-metrics", "aria-label": "Metrics" }) : h("p", { class: "muted" }, "No metrics."),
    h("h2", {}, "Charts"), charts(runs, labels, metrics),
    h("h2", {}, "Parallel coordinates"), parallel(runs, labels, differing, differingMetrics(runs, metrics)));
}

function differingMetrics(runs, keys) {
  return keys.filter((key) => new Set(runs.map((run) => run.metrics[key]?.value)).size > 1);
}

function union(lists) {
  return [...new Set(lists.flat())].sort();
}

function paramTable(runs, labels, params, differing) {
  const rows = (keys) => keys.map((key) => [key, ...runs.map((run) => formatValue(run.params[key]))]);
  const body = h("div", {}, table(["Parameter", ...labels], rows(differing), { class: "kv", id: "param-diff", "aria-label": "Parameters" }));
  const all = h("input", { type: "checkbox", id: "all-params" });
  all.addEventListener("change", () => {
    body.replaceChildren(table(["Parameter", ...labels], rows(all.checked ? params : differing), { class: "kv", id: "param-diff", "aria-label": "Parameters" }));
  });
  return h("div", {}, h("p", {}, `${differing.length} of ${params.length} differ. `, all, h("label", { for: "all-params" }, " show all")), body);
}

function charts(runs, labels, keys) {
  const grid = h("div", { class: "charts", id: "compare-charts" });
  for (const key of keys.slice(0, MAX_CHARTS)) {
    const slot = h("div", { class: "chart-slot" });
    grid.append(slot);
    overlay(key, runs, labels).then((figure) => slot.replaceWith(figure)).catch((error) => {
      if (!(error instanceof AuthRequired)) slot.replaceWith(errorBox(error));
    });
  }
  if (keys.length > MAX_CHARTS) grid.append(h("p", { class: "muted" }, `First ${MAX_CHARTS} of ${keys.length} metrics.`));
  return grid;
}

async function overlay(key, runs, labels) {
  const search = new URLSearchParams(runs.map((run) => ["run_id", run.run_id]));
  search.set("max_points", String(WIDTH * 2));
  const data = await getJson(`/api/shipyard/v1/metrics/${encodeURIComponent(key)}?${search}`);
  const present = data.runs.map((series, index) => ({ series, index })).filter(({ series }) => series.total > 0);
  const total = present.reduce((sum, { series }) => sum + series.steps.length, 0);
  const figure = h("figure", { class: "chart", dataset: { metric: key, series: present.length, points: total } });
  figure.append(h("figcaption", {}, h("strong", {}, key), ` · ${present.length} runs, ${total} points`));
  const plot = h("div", { role: "img", "aria-label": `Chart of ${key} in ${present.length} runs` });
  figure.append(plot);
  const aligned = uPlot.join(present.map(({ series }) => [series.steps, series.values]));
  const options = {
    width: WIDTH, height: HEIGHT,
    scales: { x: { time: false } },
    legend: { show: present.length <= 12 },
    axes: [{ label: "step" }, {}],
    series: [{}, ...present.map(({ index }) => ({
      label: labels[index], stroke: COLORS[index % COLORS.length], width: 1.5, spanGaps: true,
    }))],
  };
  requestAnimationFrame(() => new uPlot(options, aligned, plot));
  return figure;
}

function numeric(value) {
  const number = typeof value === "number" ? value : Number(value);
  return value !== undefined && value !== null && value !== "" && Number.isFinite(number) ? number : null;
}

function parallel(runs, labels, params, metrics) {
  const axes = [
    ...params.map((key) => ({ name: key, value: (run) => numeric(run.params[key]) })),
    ...metrics.map((key) => ({ name: key, value: (run) => numeric(run.metrics[key]?.value) })),
  ].filter((axis) => runs.some((run) => axis.value(run) !== null)).slice(0, MAX_AXES);
  if (axes.length < 2) return h("p", { class: "muted", id: "parallel" }, "Fewer than two numeric params or metrics differ.");
  const width = Math.max(480, axes.length * 130);
  const height = 280;
  const top = 40;
  const bottom = height - 28;
  const x = (i) => 40 + (i * (width - 80)) / (axes.length - 1);
  const svg = svgNode("svg", { id: "parallel", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Parallel coordinates" });
  const ranges = axes.map((axis) => {
    const values = runs.map(axis.value).filter((v) => v !== null);
    return [Math.min(...values), Math.max(...values)];
  });
  const scales = ranges.map(([low, high]) => (v) =>
    (high === low ? (top + bottom) / 2 : bottom - ((v - low) * (bottom - top)) / (high - low)));
  const label = (text, px, py, size = 12) => {
    const node = svgNode("text", { x: px, y: py, "text-anchor": "middle", "font-size": size });
    node.textContent = text;
    svg.append(node);
  };
  axes.forEach((axis, i) => {
    svg.append(svgNode("line", { x1: x(i), x2: x(i), y1: top, y2: bottom, stroke: "#8c959f" }));
    label(axis.name, x(i), 12);
    label(formatValue(ranges[i][1]), x(i), top - 6, 10);
    label(formatValue(ranges[i][0]), x(i), bottom + 16, 10);
  });

  runs.forEach((run, r) => {
    const points = axes.map((axis, i) => [i, axis.value(run)]).filter(([, v]) => v !== null)
      .map(([i, v]) => `${x(i)},${scales[i](v)}`);
    const line = svgNode("polyline", { points: points.join(" "), fill: "none", stroke: COLORS[r % COLORS.length], "stroke-width": 1.5, dataset: { runId: run.run_id } });
    const hint = svgNode("title", {});
    hint.textContent = labels[r];
    line.append(hint);
    svg.append(line);
  });
  return svg;
}

function svgNode(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "dataset") for (const [k, v] of Object.entries(value)) node.setAttribute(`data-${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`, v);
    else node.setAttribute(name, String(value));
  }
  return node;
}
