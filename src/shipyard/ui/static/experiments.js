// The list of experiments, each a link to its runs.

import { getJson } from "./api.js";
import { formatTime, h, table } from "./dom.js";

export async function experimentsView() {
  const { experiments } = await getJson("/api/shipyard/v1/experiments");
  const rows = experiments.map((e) => [
    h("a", { href: `#/experiments/${e.experiment_id}` }, e.name),
    e.experiment_id,
    formatTime(e.creation_time),
  ]);
  return h("section", {},
    h("h1", {}, "Experiments"),
    experiments.length ? table(["Name", "ID", "Created"], rows, { id: "experiments", "aria-label": "Experiments" })
      : h("p", { class: "muted" }, "No experiments yet: log a run with the mlflow client."));
}
