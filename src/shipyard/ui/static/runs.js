// An experiment's runs: filtered with the search syntax of `shipyard runs list` (MLflow's),
// sorted on the server by any attribute, param or metric, one page at a time (page tokens), with
// the columns the user picks (kept per experiment in localStorage).

import { AuthRequired, getJson } from "./api.js";
import { compareLink } from "./compare.js";
import { errorBox, formatTime, formatValue, h } from "./dom.js";

const PAGE_SIZE = 50;
const DEFAULT_ORDER = "attributes.start_time DESC";
const FIXED = [
  ["Run", "attributes.run_name"],
  ["Status", "attributes.status"],
  ["Started", "attributes.start_time"],
  ["User", "attributes.user_id"],
];
let pickerOpen = false; // the column picker stays open while columns are toggled
const previousTokens = new Map(); // "<query without page_token>" -> tokens of earlier pages
const selected = new Map(); // experiment id -> the run ids ticked for comparing (across pages)

export function quoteKey(key) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : "`" + key.replaceAll("`", "") + "`";
}

function columnsKey(experimentId) {
  return `shipyard.columns.${experimentId}`;
}

function chosenColumns(experimentId, keys) {
  const saved = localStorage.getItem(columnsKey(experimentId));
  if (saved) return JSON.parse(saved);
  return [...keys.params.slice(0, 4).map((k) => `params.${k}`), ...keys.metrics.slice(0, 4).map((k) => `metrics.${k}`)];
}

function link(experimentId, query) {
  const search = new URLSearchParams(query);
  for (const [key, value] of [...search]) if (!value) search.delete(key);
  const text = search.toString();
  return `#/experiments/${experimentId}${text ? "?" + text : ""}`;
}

function cellValue(run, column) {
  const [kind, ...rest] = column.split(".");
  const key = rest.join(".");
  if (kind === "params") return run.params[key];
  if (kind === "metrics") return run.metrics[key]?.value;
  if (kind === "tags") return run.tags[key];
  return undefined;
}

export async function runsView(experimentId, query) {
  const [experiment, keys] = await Promise.all([
    getJson("/api/2.0/mlflow/experiments/get", { experiment_id: experimentId }),
    getJson(`/api/shipyard/v1/experiments/${experimentId}/keys`),
  ]);
  const filter = query.get("filter") || "";
  const order = query.get("order_by") || DEFAULT_ORDER;
  const token = query.get("page_token") || "";
  const columns = chosenColumns(experimentId, keys);
  const state = { filter, order_by: order === DEFAULT_ORDER ? "" : order };
  const stackKey = `${experimentId}?${new URLSearchParams(state)}`;

  const section = h("section", {}, h("h1", {}, experiment.experiment.name),
    h("p", { class: "muted" }, `Experiment ${experimentId}`));
  section.append(filterForm(experimentId, state), columnPicker(experimentId, keys, columns));

  let page;
  try {
    page = await getJson("/api/shipyard/v1/runs", {
      experiment: experimentId, filter, order_by: order, max_results: PAGE_SIZE, page_token: token,
    });
  } catch (error) {
    if (error instanceof AuthRequired) throw error;
    section.append(errorBox(error));
    return section;
  }
  const earlier = previousTokens.get(stackKey) || [];
  const pageIndex = token ? Math.max(earlier.indexOf(token), 0) + 1 : 0;
  section.append(compareBar(experimentId), runsTable(experimentId, page.runs, columns, state, order));
  section.append(pager(experimentId, state, token, page.next_page_token, stackKey, page.runs.length, pageIndex));
  return section;
}

function filterForm(experimentId, state) {
  const input = h("input", {
    id: "runs-filter", name: "filter", value: state.filter, size: 60, spellcheck: "false",
    placeholder: "metrics.auc > 0.9 and params.depth = '5'",
  });
  const form = h("form", { class: "filter", role: "search" },
    h("label", { for: "runs-filter" }, "Filter"), input, h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.location.hash = link(experimentId, { ...state, filter: input.value.trim() });
  });
  return form;
}

function columnPicker(experimentId, keys, columns) {
  const all = [...keys.params.map((k) => `params.${k}`), ...keys.metrics.map((k) => `metrics.${k}`), ...keys.tags.map((k) => `tags.${k}`)];
  const boxes = all.map((column, index) => {
    const id = `column-${index}`;
    const box = h("input", { type: "checkbox", id, value: column, checked: columns.includes(column) });
    box.addEventListener("change", () => {
      const picked = [...details.querySelectorAll("input:checked")].map((b) => b.value);
      localStorage.setItem(columnsKey(experimentId), JSON.stringify(picked));
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    });
    return h("li", {}, box, h("label", { for: id }, column));
  });
  const details = h("details", { class: "columns", id: "columns", open: pickerOpen },
    h("summary", {}, `Columns (${columns.length} of ${all.length})`), h("ul", {}, boxes));
  details.addEventListener("toggle", () => { pickerOpen = details.open; });
  return details;
}

function runsTable(experimentId, runs, columns, state, order) {
  const [orderKey, direction] = order.split(/\s+(?=(?:ASC|DESC)$)/i);
  const header = [...FIXED, ...columns.map((c) => [c, columnOrderKey(c)])].map(([label, key]) => {
    const active = orderKey === key;
    const descending = active && /DESC/i.test(direction || "");
    const next = active && !descending ? `${key} DESC` : `${key} ASC`;
    return h("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : "none" },
      h("a", { href: link(experimentId, { ...state, order_by: next }), class: "sort", "data-column": label },
        label, active ? (descending ? " ▼" : " ▲") : ""));
  });
  const rows = runs.map((run) => h("tr", { dataset: { runId: run.run_id } },
    h("td", {}, pick(experimentId, run), h("a", { href: `#/experiments/${experimentId}/runs/${run.run_id}` }, run.name || run.run_id)),
    h("td", {}, run.status), h("td", {}, formatTime(run.start_time)), h("td", {}, run.user),
    columns.map((c) => h("td", { class: "num" }, formatValue(cellValue(run, c))))));
  if (runs.length === 0) return h("p", { class: "muted", id: "no-runs" }, "No runs match.");
  return h("div", { class: "scroll" }, h("table", { id: "runs", "aria-label": "Runs" },
    h("thead", {}, h("tr", {}, header)), h("tbody", {}, rows)));
}

function ticked(experimentId) {
  if (!selected.has(experimentId)) selected.set(experimentId, new Set());
  return selected.get(experimentId);
}

function pick(experimentId, run) {
  const box = h("input", {
    type: "checkbox", class: "pick", checked: ticked(experimentId).has(run.run_id),
    "aria-label": `Select ${run.name || run.run_id} to compare`,
  });
  box.addEventListener("change", () => {
    if (box.checked) ticked(experimentId).add(run.run_id);
    else ticked(experimentId).delete(run.run_id);
    document.getElementById("compare-bar")?.replaceWith(compareBar(experimentId));
  });
  return box;
}

function compareBar(experimentId) {
  const ids = [...ticked(experimentId)];
  const go = h("button", { type: "button", id: "compare", disabled: ids.length < 2 }, `Compare ${ids.length} selected`);
  go.addEventListener("click", () => { window.location.hash = compareLink(experimentId, ids); });
  const reset = h("button", { type: "button", class: "link", disabled: ids.length === 0 }, "clear");
  reset.addEventListener("click", () => {
    ticked(experimentId).clear();
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  });
  return h("p", { id: "compare-bar" }, go, " ", reset);
}

function columnOrderKey(column) {
  const [kind, ...rest] = column.split(".");
  return `${kind}.${quoteKey(rest.join("."))}`;
}

function pager(experimentId, state, token, nextToken, stackKey, count, pageIndex) {
  const earlier = previousTokens.get(stackKey) || [];
  const nav = h("nav", { class: "pager", "aria-label": "Pages" });
  const first = pageIndex * PAGE_SIZE + 1;
  nav.append(h("span", { id: "page-info" }, count ? `Runs ${first}–${first + count - 1}` : ""));
  if (token) {
    const index = earlier.indexOf(token);
    const before = index > 0 ? earlier[index - 1] : "";
    nav.append(h("a", { href: link(experimentId, { ...state, page_token: before }), id: "previous-page" }, "← Previous"));
  }
  if (nextToken) {
    const next = h("a", { href: link(experimentId, { ...state, page_token: nextToken }), id: "next-page" }, "Next →");
    next.addEventListener("click", () => {
      const tokens = earlier.slice(0, token ? earlier.indexOf(token) + 1 : 0);
      tokens.push(nextToken);
      previousTokens.set(stackKey, tokens);
    });
    nav.append(next);
  }
  return nav;
}
