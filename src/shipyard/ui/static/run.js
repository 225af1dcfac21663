// One run: its attributes, params, metrics (latest values and downsampled charts of the whole
// history), tags, environment, the model versions it made, and its artifacts.

import { AuthRequired, getJson } from "./api.js";
import { artifactBrowser } from "./artifacts.js";
import { metricChart } from "./chart.js";
import { errorBox, formatTime, formatValue, h, keyValues, table } from "./dom.js";

const MAX_CHARTS = 12;

export async function runView(experimentId, runId) {
  const run = await getJson(`/api/shipyard/v1/runs/${runId}`);
  const title = run.name || run.run_id;
  const metricKeys = Object.keys(run.metrics).sort();
  const systemTags = Object.fromEntries(Object.entries(run.tags).filter(([k]) => k.startsWith("mlflow.")));
  const userTags = Object.fromEntries(Object.entries(run.tags).filter(([k]) => !k.startsWith("mlflow.")));
  return h("section", { class: "run" },
    h("p", { class: "crumbs" }, h("a", { href: `#/experiments/${run.experiment_id}` }, "← Runs of experiment ", run.experiment_id)),
    h("h1", {}, title),
    table(["Run ID", "Status", "Started", "Ended", "User"],
      [[run.run_id, run.status, formatTime(run.start_time), formatTime(run.end_time), run.user]], { class: "summary", "aria-label": "Run" }),
    h("h2", {}, "Parameters"), keyValues(run.params, "parameters"),
    h("h2", {}, "Metrics"),
    metricKeys.length ? table(["Metric", "Latest", "Step"],
      metricKeys.map((k) => [k, formatValue(run.metrics[k].value), run.metrics[k].step]), { class: "kv", id: "metrics", "aria-label": "Metrics" })
      : h("p", { class: "muted" }, "No metrics."),
    charts(run.run_id, metricKeys),
    h("h2", {}, "Models made from this run"), lineage(run.models || []),
    h("h2", {}, "Artifacts"), artifactBrowser(run.artifact_uri),
    h("h2", {}, "Tags"), keyValues(userTags, "tags"),
    h("details", {}, h("summary", {}, `System tags (${Object.keys(systemTags).length})`), keyValues(systemTags, "system tags")),
    h("h2", {}, "Environment"), environment(run.environment));
}

function charts(runId, keys) {
  const grid = h("div", { class: "charts", id: "charts" });
  const draw = (chosen) => {
    grid.replaceChildren();
    for (const key of chosen.slice(0, MAX_CHARTS)) {
      const slot = h("div", { class: "chart-slot" });
      grid.append(slot);
      metricChart(runId, key).then((figure) => slot.replaceWith(figure)).catch((error) => {
        if (!(error instanceof AuthRequired)) slot.replaceWith(errorBox(error));
      });
    }
  };
  draw(keys);
  if (keys.length <= MAX_CHARTS) return grid;
  const search = h("input", { id: "chart-filter", type: "search", placeholder: "metric name contains…" });
  search.addEventListener("input", () => draw(keys.filter((k) => k.includes(search.value))));
  return h("div", {}, h("label", { for: "chart-filter" }, `Charts (first ${MAX_CHARTS} of ${keys.length}) `), search, grid);
}

function lineage(models) {
  if (models.length === 0) return h("p", { class: "muted" }, "No registered model version was made from this run.");
  return h("ul", { id: "lineage" }, models.map((m) =>
    h("li", {}, h("a", { href: `#/models/${encodeURIComponent(m.name)}` }, `${m.name} v${m.version}`),
      m.dataset_digest ? h("span", { class: "muted" }, ` · dataset ${m.dataset_digest.slice(0, 19)}`) : "")));
}

function environment(env) {
  if (!env) return h("p", { class: "muted" }, "No environment was recorded (runs started by `shipyard` record it).");
  const { packages, ...rest } = env;
  const flat = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v]));
  const parts = [keyValues(flat, "environment")];
  if (packages && typeof packages === "object") {
    const list = Array.isArray(packages) ? packages.map((p) => [String(p), ""]) : Object.entries(packages);
    parts.push(h("details", {}, h("summary", {}, `Packages (${list.length})`), table(["Package", "Version"], list, { class: "kv" })));
  }
  return h("div", { id: "environment" }, parts);
}
