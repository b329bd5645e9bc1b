// A chat's extras beside its messages: each outgoing message's delivery status (with the provider's reason
// when it failed), the files in the conversation (images inline, other files to download), sending a file,
// "typing…" both ways, and WhatsApp's 24-hour window with its approved templates once it has closed.

import { PAGE, api, t, fmt, el, toast } from "./common.js";
import { localizeError } from "./errors.js";

/** The delivery status of an outgoing message, as the agent reads it. The provider's reason is English; on
 * other pages a provider error code the catalogue knows (`delivery.<code>`) is said in the page's language,
 * the provider's own words kept in the title. */
export function statusNode(m) {
  const failed = m.status === "failed";
  const original = m.error_message || m.error_code || "";
  const key = `delivery.${m.error_code}`;
  const reason = PAGE.language !== "en" && m.error_code && t(key) !== key ? t(key) : original;
  return el("span", { class: `status${failed ? " failed" : ""}`, dataset: { status: m.status }, title: failed ? original : null },
    " · ", failed && reason ? t("console.delivery_failed", { reason }) : t(`status.${m.status}`));
}

/** The message's body: its text, its file (an image shown, another file linked), or a template's name. */
export function bodyNode(m) {
  const parts = [];
  if (m.template_name) parts.push(el("span", { class: "template" }, `${t("console.template")}: ${m.template_name}`));
  if (m.media_url) {
    const name = m.filename || t("console.attachment");
    if ((m.media_mime || "").startsWith("image/")) {
      parts.push(el("a", { href: m.media_url, target: "_blank", rel: "noopener", class: "media" },
        el("img", { src: m.media_url, alt: name, loading: "lazy" })));
    } else {
      parts.push(el("a", { href: m.media_url, download: name, class: "media file" }, t("console.download", { name })));
    }
  } else if (m.media_mime && !m.text) {
    parts.push(t("console.media", { type: m.media_mime }));
  }
  if (m.text) parts.push(el("span", { class: "caption" }, m.text));
  return el("span", { class: "text" }, ...parts);
}

/** Uploads a file to the conversation (web chat) and answers the reply body that sends it. */
export async function uploadFile(interactionId, file) {
  let response;
  try {
    response = await fetch(`/api/v1/conversations/${interactionId}/attachments?filename=${encodeURIComponent(file.name)}`, {
      method: "POST", credentials: "same-origin", body: file,
      headers: { "X-Requested-With": "teleplex-web", "Content-Type": file.type || "application/octet-stream" } });
  } catch {
    return { ok: false, error: { message: t("error.network") } };
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || { message: `HTTP ${response.status}` };
    return { ok: false, error: localizeError(error, t, PAGE.language) };
  }
  return { ok: true, body: { media_url: data.media_url, media_kind: data.media_kind, filename: data.filename } };
}

/**
 * The agent's typing, told to the visitor: "typing" at most every few seconds while keys are pressed, and
 * "stopped" after a pause or when the reply is sent.
 */
export class TypingSignal {
  constructor(interactionId, { every = 3000, idle = 4000 } = {}) {
    this.path = `/api/v1/conversations/${interactionId}/typing`;
    this.every = every;
    this.idle = idle;
    this.lastSent = 0;
    this.on = false;
    this.timer = null;
  }

  keystroke() {
    const now = Date.now();
    if (!this.on || now - this.lastSent >= this.every) {
      this.on = true;
      this.lastSent = now;
      api("POST", this.path, { typing: true });
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), this.idle);
  }

  stop() {
    clearTimeout(this.timer);
    if (!this.on) return;
    this.on = false;
    api("POST", this.path, { typing: false });
  }
}

/** The customer's typing, shown under the messages; it hides itself if the "stopped" never comes. */
export function typingIndicator() {
  const node = el("p", { class: "typing muted", "aria-live": "polite" });
  let timer = null;
  node.show = (on) => {
    clearTimeout(timer);
    node.textContent = on ? t("console.typing") : "";
    if (on) timer = setTimeout(() => { node.textContent = ""; }, 10000);
  };
  return node;
}

/** A template's body with the values typed so far in place of their variables ({{1}}, {{name}}). */
export function fillBody(body, values) {
  return (body || "").replace(/\{\{\s*([0-9]{1,3}|[a-z_][a-z0-9_]{0,63})\s*\}\}/g,
    (whole, name) => (values[name] ? values[name] : whole));
}

/**
 * WhatsApp's window: a line saying until when free text may be sent; once closed, the reason, the reply
 * box disabled, and a picker of the approved templates instead (Meta's list, or the channel's own when Meta
 * cannot be read): the chosen one's header and body shown as a preview, and one required input per value it
 * takes (the header's variable or file link, each body variable, each button's URL ending or code), whose
 * values survive a refresh of the list.
 */
export function windowControls(interactionId, replyForm, send) {
  const line = el("p", { class: "window", role: "status", hidden: true });
  const note = el("p", { class: "muted templates-note", hidden: true });
  const picker = el("select", { name: "template", "aria-label": t("console.template") });
  const preview = el("p", { class: "template-preview", "aria-live": "polite" });
  const inputs = el("div", { class: "template-variables" });
  const typed = new Map(); // `${template}|${slot}` -> what the agent typed (slot: a variable, "header", "button:<i>")
  let offered = [];
  const chosen = () => offered.find((x) => `${x.name}|${x.language}` === picker.value);
  const value = (slot) => typed.get(`${picker.value}|${slot}`) || "";
  const values = () => {
    const x = chosen();
    return x ? x.variables.map((v) => value(v)) : [];
  };
  const headerSlot = (x) => (x && x.header && x.header.takes_value ? x.header : null);
  const showPreview = () => {
    const x = chosen();
    if (!x) { preview.textContent = ""; return; }
    const filled = Object.fromEntries(x.variables.map((v) => [v, value(v)]));
    const header = x.header && x.header.format === "TEXT" && x.header.text
      ? fillBody(x.header.text, x.header.variable ? { [x.header.variable]: value("header") } : {}) : "";
    const body = x.body ? fillBody(x.body, filled) : "";
    preview.textContent = header || body
      ? `${t("console.template_preview")}: ${[header, body].filter(Boolean).join(" — ")}` : t("console.template_no_body");
  };
  const input = (slot, name, label, attributes = {}) => el("div", { class: "row" },
    el("label", { class: "inline" }, label,
      el("input", { name, required: true, maxlength: 1024, value: value(slot),
        ...attributes, oninput: (e) => { typed.set(`${picker.value}|${slot}`, e.target.value); showPreview(); } })));
  const showInputs = () => {
    const x = chosen();
    const header = headerSlot(x);
    const fields = [];
    if (header && header.format === "TEXT") {
      fields.push(input("header", "template_header", t("console.template_header_value", { name: `{{${header.variable}}}` })));
    } else if (header) {
      fields.push(input("header", "template_header", t(`console.template_header_${header.format.toLowerCase()}`), { type: "url", maxlength: 2000 }));
    }
    for (const v of x ? x.variables : []) fields.push(input(v, `template_var_${v}`, t("console.template_variable", { name: `{{${v}}}` })));
    for (const b of x ? x.buttons || [] : []) {
      fields.push(b.type === "COPY_CODE"
        ? input(`button:${b.index}`, `template_button_${b.index}`, t("console.template_button_code"), { maxlength: 15 })
        : input(`button:${b.index}`, `template_button_${b.index}`, t("console.template_button_url", { name: b.text || "", url: b.url || "" })));
    }
    inputs.replaceChildren(...fields);
    showPreview();
  };
  picker.addEventListener("change", showInputs);
  const templateForm = el("form", { class: "template", hidden: true, onsubmit: async (e) => {
    e.preventDefault();
    const x = chosen();
    if (!x) return;
    const body = { template_name: x.name, template_language: x.language, template_variables: values() };
    if (headerSlot(x)) body.template_header = value("header");
    if ((x.buttons || []).length) body.template_buttons = x.buttons.map((b) => value(`button:${b.index}`));
    const sent = await send(body);
    if (sent) {
      for (const slot of [...x.variables, "header", ...(x.buttons || []).map((b) => `button:${b.index}`)]) {
        typed.delete(`${picker.value}|${slot}`);
      }
      showInputs();
      toast(t("console.sent_template"));
    }
  } }, el("div", { class: "row" }, el("label", { class: "inline" }, t("console.template"), picker)),
  preview, inputs, note,
  el("div", { class: "row" }, el("button", { type: "submit" }, t("console.send_template"))));
  let timer = null;

  const refresh = async () => {
    const r = await api("GET", `/api/v1/conversations/${interactionId}/window`);
    if (!r.ok || !r.data.applies) { line.hidden = true; templateForm.hidden = true; return; }
    const w = r.data;
    line.hidden = false;
    line.classList.toggle("closed", !w.open);
    line.textContent = w.open ? t("console.window_open", { time: fmt.dateTime(w.closes_at) }) : t("console.window_closed");
    for (const field of replyForm.querySelectorAll("textarea, button, input")) field.disabled = !w.open;
    templateForm.hidden = w.open;
    const was = picker.value;
    offered = w.templates;
    picker.replaceChildren(...offered.map((x) => el("option", { value: `${x.name}|${x.language}` }, `${x.name} (${x.language})`)));
    if (offered.some((x) => `${x.name}|${x.language}` === was)) picker.value = was;
    showInputs();
    note.hidden = !w.templates_error;
    note.textContent = w.templates_error ? t("console.templates_fallback") : "";
    note.title = w.templates_error || "";
    templateForm.querySelector("button[type=submit]").disabled = !offered.length;
    if (!w.open && !offered.length) line.textContent = `${t("console.window_closed")} ${t("console.no_templates")}`;
    clearTimeout(timer);
    const left = w.open && w.closes_at ? new Date(w.closes_at) - Date.now() : null;
    if (left !== null && left < 2 ** 31 - 1) timer = setTimeout(refresh, Math.max(0, left) + 500); // it closes while shown
  };
  return { line, templateForm, refresh };
}
