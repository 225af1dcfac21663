// Building DOM nodes without innerHTML: every text is a text node, so no value can inject markup.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function formatTime(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 19);
}

export function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(6);
  return String(value);
}

export function table(headers, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))));
}

export function keyValues(entries, label) {
  const sorted = Object.entries(entries || {}).sort(([a], [b]) => a.localeCompare(b));
  if (sorted.length === 0) return h("p", { class: "muted" }, `No ${label}.`);
  return table(["Key", "Value"], sorted.map(([k, v]) => [k, formatValue(v)]), { class: "kv", "aria-label": label });
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, String(error.message || error));
}
