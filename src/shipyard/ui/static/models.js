// Registered models: the list, then one model's versions (aliases, tags, signature, lineage to
// its run), the audit trail of alias moves, and "move alias" (confirmed, recorded with the user).

import { getJson, postJson } from "./api.js";
import { errorBox, formatTime, h, keyValues, table } from "./dom.js";

export async function modelsView() {
  const { models } = await getJson("/api/shipyard/v1/models");
  const rows = models.map((m) => [
    h("a", { href: `#/models/${encodeURIComponent(m.name)}` }, m.name),
    m.latest_version, m.version_count,
    Object.entries(m.aliases).map(([a, v]) => `${a} → v${v}`).join(", "),
    formatTime(Date.parse(m.updated_at)),
  ]);
  return h("section", {}, h("h1", {}, "Models"),
    models.length ? table(["Name", "Latest", "Versions", "Aliases", "Updated"], rows, { id: "models", "aria-label": "Models" })
      : h("p", { class: "muted" }, "No registered models yet."));
}

export async function modelView(name) {
  const model = await getJson(`/api/shipyard/v1/models/${encodeURIComponent(name)}`);
  return h("section", {},
    h("p", { class: "crumbs" }, h("a", { href: "#/models" }, "← Models")),
    h("h1", {}, model.name),
    moveAliasForm(model),
    h("h2", {}, "Versions"), versionsTable(model.versions),
    h("h2", {}, "Audit trail"), audit(model.history));
}

function versionsTable(versions) {
  const rows = versions.map((v) => [
    h("span", { id: `v${v.version}` }, `v${v.version}`),
    v.aliases.join(", "), v.flavor, formatTime(Date.parse(v.created_at)), v.created_by,
    runLink(v.lineage), signature(v.signature), Object.keys(v.tags).length ? keyValues(v.tags, "tags") : "",
  ]);
  return h("div", { class: "scroll" }, table(["Version", "Aliases", "Flavor", "Created", "By", "Run", "Signature", "Tags"], rows, { id: "versions", "aria-label": "Versions" }));
}

function runLink(lineage) {
  if (!lineage || !lineage.run_id) return "";
  return h("a", { href: `#/experiments/0/runs/${lineage.run_id}`, class: "mono" }, lineage.run_id.slice(0, 8));
}

function signature(sig) {
  if (!sig) return h("span", { class: "muted" }, "none");
  const specs = (list) => list.map((s) => `${s.name}: ${s.dtype}${s.shape && s.shape.length ? `[${s.shape.join(",")}]` : ""}`).join(", ");
  return h("details", {}, h("summary", {}, `${sig.inputs.length} in → ${sig.outputs.length} out`),
    h("p", {}, "Inputs: ", specs(sig.inputs)), h("p", {}, "Outputs: ", specs(sig.outputs)));
}

function audit(history) {
  if (history.length === 0) return h("p", { class: "muted" }, "No alias has moved yet.");
  return table(["When", "Alias", "Change", "By"], history.map((e) => [
    formatTime(Date.parse(e.at)), e.alias,
    `${e.action}: ${e.from_version ? "v" + e.from_version : "—"} → ${e.to_version ? "v" + e.to_version : "—"}`, e.actor,
  ]), { id: "audit", "aria-label": "Audit trail" });
}

function moveAliasForm(model) {
  const aliases = [...new Set(model.versions.flatMap((v) => v.aliases))].sort();
  const alias = h("input", { id: "alias-name", name: "alias", list: "alias-names", required: true, value: aliases[0] || "" });
  const version = h("select", { id: "alias-version", name: "version" },
    model.versions.map((v) => h("option", { value: v.version }, `v${v.version}`)));
  const status = h("p", { id: "alias-status", role: "status" });
  const form = h("form", { class: "move-alias", "aria-label": "Move alias" },
    h("h2", {}, "Move alias"),
    h("p", { class: "muted" }, "Pointing an alias at an older version is a rollback. Needs a read-write key when the server has keys."),
    h("label", { for: "alias-name" }, "Alias"), alias,
    h("datalist", { id: "alias-names" }, aliases.map((a) => h("option", { value: a }))),
    h("label", { for: "alias-version" }, "Version"), version,
    h("button", { type: "submit" }, "Move…"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = `${model.name}@${alias.value.trim()} → v${version.value}`;
    if (!window.confirm(`Move ${target}? Deployments that follow this alias will roll to it.`)) return;
    try {
      await postJson("/api/2.0/mlflow/registered-models/alias", { name: model.name, alias: alias.value.trim(), version: version.value });
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  });
  return form;
}
