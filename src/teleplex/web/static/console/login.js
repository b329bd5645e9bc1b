// The login form: a session cookie from POST /api/v1/auth/session, then the page the user came for.

import { api, t } from "./common.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  const r = await api("POST", "/api/v1/auth/session", { username: data.get("username"), password: data.get("password") });
  if (!r.ok) {
    error.textContent = r.status === 401 ? t("login.wrong") : r.status === 429 ? t("login.throttled") : r.error.message;
    error.hidden = false;
    form.querySelector("input[name=password]").select();
    return;
  }
  const next = new URLSearchParams(location.search).get("next");
  location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
});
