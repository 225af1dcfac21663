// The sign-in form, shown when the server answers 401: a token, or a key name and its token.

import { signIn } from "./api.js";
import { h } from "./dom.js";

export function loginView(reason, onDone) {
  const user = h("input", { id: "login-user", name: "user", autocomplete: "username" });
  const token = h("input", { id: "login-token", name: "token", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "login", "aria-label": "Sign in" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, reason || "This server needs an access key."),
    h("p", {}, "Paste a token made with ", h("code", {}, "shipyard server keys add NAME"), "."),
    h("label", { for: "login-user" }, "Key name (optional)"), user,
    h("label", { for: "login-token" }, "Token"), token,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(user.value.trim(), token.value.trim());
    onDone();
  });
  setTimeout(() => token.focus(), 0);
  return form;
}
