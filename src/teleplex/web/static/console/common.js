// What every page shares: its strings, the API, formatting in the user's locale and time zone, the one
// event socket with its "connection lost" banner, and small DOM helpers. Plain ES module, no build step.

import { localizeError } from "./errors.js";

const STRINGS = JSON.parse(document.getElementById("tpx-strings").textContent);
export const PAGE = JSON.parse(document.getElementById("tpx-page").textContent);
const LOCALE = PAGE.language === "es" ? "es-ES" : "en-GB";

/** A string of the catalogue in the page's language, with {name} placeholders filled. */
export function t(key, values = {}) {
  const text = STRINGS[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

/** Calls the API with the session cookie; cookie writes carry X-Requested-With (the CSRF guard). */
export async function api(method, path, body) {
  const headers = { "X-Requested-With": "teleplex-web" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { ok: false, status: 0, data: null, error: { code: "network", message: t("error.network"), details: [] } };
  }
  if (response.status === 401 && !path.startsWith("/api/v1/auth/session")) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  const error = response.ok ? null : (data && data.error) || { code: "http", message: `HTTP ${response.status}`, details: [] };
  return { ok: response.ok, status: response.status, data, error: localizeError(error, t, PAGE.language) };
}

/** The field an API error names (its details' `field`, or the "field: ..." prefix of the message). */
export function errorFields(error) {
  const out = {};
  const details = Array.isArray(error.details) ? error.details : error.details ? [error.details] : [];
  for (const d of details) {
    if (d && d.field) out[String(d.field).split(/[.[]/)[0]] = d.message || error.message;  // roles[0] -> roles
  }
  if (!Object.keys(out).length) {
    const m = /^([a-z_]+)(?:\.[\w.]+)?: (.*)$/.exec(error.message || "");
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export const fmt = {
  time: (iso) => (iso ? new Intl.DateTimeFormat(LOCALE, { timeZone: PAGE.timezone, hour: "2-digit", minute: "2-digit",
    second: "2-digit" }).format(new Date(iso)) : ""),
  dateTime: (iso) => (iso ? new Intl.DateTimeFormat(LOCALE, { timeZone: PAGE.timezone, dateStyle: "short",
    timeStyle: "medium" }).format(new Date(iso)) : ""),
  number: (n, digits = 0) => (n === null || n === undefined ? "—" : new Intl.NumberFormat(LOCALE,
    { maximumFractionDigits: digits }).format(n)),
  percent: (ratio) => (ratio === null || ratio === undefined ? "—" : new Intl.NumberFormat(LOCALE,
    { style: "percent", maximumFractionDigits: 0 }).format(ratio)),
  duration: (seconds) => {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (x) => String(x).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(r)}` : `${pad(m)}:${pad(r)}`;
  },
};

/** Creates an element: el("button", {class: "x", onclick: fn}, "text", child...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer = null;
/** A short message for the user (an action refused, a copy done); errors are read out by screen readers. */
export function toast(message) {
  const box = document.getElementById("tpx-toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/**
 * The browser's one WebSocket to /api/v1/events: snapshot, then events; after a drop it reconnects with
 * `?after=<last seq>` so nothing is missed, and while it is down a banner says so (never silently stale).
 */
export class EventSocket {
  constructor({ onSnapshot, onEvent }) {
    this.onSnapshot = onSnapshot;
    this.onEvent = onEvent;
    this.seq = null;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.banner = document.getElementById("tpx-banner");
    window.teleplexEvents = this; // tests drop the connection through this handle
  }

  start() { this.connect(); }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const after = this.seq !== null ? `?after=${this.seq}` : "";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/events${after}`);
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.setConnected(true); };
    ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "snapshot") this.onSnapshot(event.data);
      else if (event.type === "resync") this.seq = null; // a snapshot follows (or comes on the next connect)
      else {
        if (typeof event.seq === "number") this.seq = event.seq;
        this.onEvent(event);
      }
    };
    ws.onclose = (close) => {
      if (this.ws !== ws || this.stopped) return;
      if (close.code === 4401) { location.assign(`/login?next=${encodeURIComponent(location.pathname)}`); return; }
      this.setConnected(false);
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), this.attempt === 1 ? 200 : delay);
    };
  }

  setConnected(up) {
    this.connected = up;
    this.banner.hidden = up;
    this.banner.textContent = up ? "" : t("live.reconnecting");
    document.body.classList.toggle("offline", !up);
  }

  /** Closes the socket as a network failure would; the usual reconnect follows. */
  drop() { if (this.ws) this.ws.close(); }
}

/** The header's language choice and logout, on every signed-in page. */
function bindHeader() {
  const language = document.getElementById("tpx-language");
  if (language) {
    language.addEventListener("change", async () => {
      const r = await api("PATCH", "/api/v1/auth/me", { language: language.value });
      if (r.ok) location.reload(); else toast(r.error.message);
    });
  }
  const logout = document.getElementById("tpx-logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      await api("POST", "/api/v1/auth/logout");
      location.assign("/login");
    });
  }
}

bindHeader();
