// The router: the URL fragment names the view, as the mlflow client's links do
// (#/experiments/<id>, #/experiments/<id>/runs/<run_id>); each view renders into <main>.

import { AuthRequired, isSignedIn, signOut } from "./api.js";
import { compareView } from "./compare.js";
import { clear, errorBox, h } from "./dom.js";
import { experimentsView } from "./experiments.js";
import { loginView } from "./login.js";
import { modelView, modelsView } from "./models.js";
import { runView } from "./run.js";
import { runsView } from "./runs.js";

const ROUTES = [
  [/^\/?$/, () => experimentsView()],
  [/^\/experiments\/?$/, () => experimentsView()],
  [/^\/experiments\/(\d+)\/?$/, ([id], query) => runsView(id, query)],
  [/^\/experiments\/(\d+)\/runs\/([0-9a-f]{32})(?:\/.*)?$/, ([id, runId]) => runView(id, runId)],
  [/^\/experiments\/(\d+)\/compare\/?$/, ([id], query) => compareView(id, query)],
  [/^\/models\/?$/, () => modelsView()],
  [/^\/models\/([^/]+)\/?$/, ([name]) => modelView(decodeURIComponent(name))],
];

let rendering = 0;

export async function render() {
  const ticket = ++rendering;
  const view = document.getElementById("view");
  const [path, search] = window.location.hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(search || "");
  updateWho();
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  let node;
  try {
    if (!route) throw new Error(`No page at #${path}: see the experiments.`);
    node = await route[1](path.match(route[0]).slice(1), query);
  } catch (error) {
    if (error instanceof AuthRequired) {
      if (isSignedIn()) signOut();
      node = loginView(error.message, render);
    } else {
      node = h("section", {}, h("h1", {}, "Something went wrong"), errorBox(error));
    }
  }
  if (ticket !== rendering) return; // a newer navigation won
  clear(view).append(node);
  document.title = `${view.querySelector("h1")?.textContent || "Shipyard"} · Shipyard`;
}

function updateWho() {
  const who = clear(document.getElementById("who"));
  if (isSignedIn()) {
    who.append(h("button", { type: "button", class: "link", onclick: () => { signOut(); render(); } }, "Sign out"));
  }
}

window.addEventListener("hashchange", render);
render();
