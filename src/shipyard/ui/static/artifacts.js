// A run's artifact browser over the mlflow-artifacts API: folders open in place, and a file
// previews as text, pretty JSON, a table (CSV/TSV) or an image. Files are fetched with the
// user's key, so images show through blob: URLs.

import { AuthRequired, getJson, request } from "./api.js";
import { errorBox, h, table } from "./dom.js";

const PREVIEW_LIMIT = 5 * 1024 * 1024;
const LIST = "/api/2.0/mlflow-artifacts/artifacts";
const IMAGES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", svg: "image/svg+xml" };
const TEXT = /\.(txt|log|md|ya?ml|py|toml|cfg|ini|html|xml|sh|json|jsonl|csv|tsv)$|(^|\/)(MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml|[A-Z]+)$/;

export function artifactRoot(artifactUri) {
  const match = /^mlflow-artifacts:\/*(.*)$/.exec(artifactUri || "");
  return match ? match[1].replace(/\/+$/, "") : null;
}

export function artifactBrowser(artifactUri) {
  const root = artifactRoot(artifactUri);
  const preview = h("div", { class: "preview", id: "artifact-preview", "aria-live": "polite" });
  if (root === null) {
    return h("p", { class: "muted" }, `Artifacts are stored at ${artifactUri}, outside this server.`);
  }
  const tree = h("ul", { class: "tree", id: "artifacts" });
  const section = h("div", { class: "artifacts" }, tree, preview);
  listInto(tree, root, root, preview);
  return section;
}

async function listInto(list, root, folder, preview) {
  let files;
  try {
    ({ files = [] } = await getJson(LIST, { path: folder }));
  } catch (error) {
    if (error instanceof AuthRequired) throw error;
    list.append(h("li", {}, errorBox(error)));
    return;
  }
  if (files.length === 0 && folder === root) list.append(h("li", { class: "muted" }, "No artifacts."));
  for (const file of files.sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path))) {
    const name = file.path.split("/").pop();
    const full = `${folder}/${name}`;
    const item = h("li", {});
    if (file.is_dir) {
      const children = h("ul", {});
      let opened = false;
      item.append(h("button", { type: "button", class: "link", "aria-expanded": "false", onclick: (event) => {
        opened = !opened;
        event.currentTarget.setAttribute("aria-expanded", String(opened));
        if (opened) listInto(children, root, full, preview); else children.replaceChildren();
      } }, `${name}/`), children);
    } else {
      item.append(h("button", { type: "button", class: "link", dataset: { path: full.slice(root.length + 1) },
        onclick: () => show(preview, full, name, file.file_size) }, name),
        h("span", { class: "muted" }, ` ${size(file.file_size)}`));
    }
    list.append(item);
  }
}

function size(bytes) {
  if (bytes === undefined) return "";
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

async function show(preview, path, name, bytes) {
  preview.replaceChildren(h("h3", {}, name));
  const extension = (name.split(".").pop() || "").toLowerCase();
  if (bytes !== undefined && bytes > PREVIEW_LIMIT) {
    preview.append(h("p", { class: "muted" }, `${size(bytes)}: too big to preview.`));
    return;
  }
  try {
    const response = await request(`${LIST}/${path.split("/").map(encodeURIComponent).join("/")}`);
    if (IMAGES[extension]) {
      const blob = new Blob([await response.arrayBuffer()], { type: IMAGES[extension] });
      preview.append(h("img", { src: URL.createObjectURL(blob), alt: name, class: "artifact-image" }));
    } else if (extension === "json") {
      const text = await response.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ }
      preview.append(h("pre", { class: "json" }, shown));
    } else if (extension === "csv" || extension === "tsv") {
      const lines = (await response.text()).split(/\r?\n/).filter(Boolean).slice(0, 101);
      const cells = lines.map((line) => line.split(extension === "csv" ? "," : "\t"));
      preview.append(table(cells[0] || [], cells.slice(1), { class: "csv" }));
    } else if (TEXT.test(name) || !name.includes(".")) {
      preview.append(h("pre", {}, await response.text()));
    } else {
      preview.append(h("p", { class: "muted" }, "No preview for this kind of file."));
    }
  } catch (error) {
    if (error instanceof AuthRequired) throw error;
    preview.append(errorBox(error));
  }
}
