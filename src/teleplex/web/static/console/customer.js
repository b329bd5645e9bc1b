// The customer panel: who is on the other end (profile, identities, custom fields) and what happened with
// them before on every channel (the contacts API's timeline).

import { api, t, fmt, el } from "./common.js";

let shown = null;

export async function showCustomer(interaction) {
  const body = document.getElementById("customer-body");
  if (!body || shown === interaction.id) return;
  shown = interaction.id;
  if (!interaction.contact_id) {
    body.replaceChildren(el("p", { class: "muted" }, t("customer.unknown")),
      el("p", {}, interaction.caller_name || interaction.caller_id || ""));
    return;
  }
  const [contact, timeline] = await Promise.all([
    api("GET", `/api/v1/contacts/${interaction.contact_id}`),
    api("GET", `/api/v1/contacts/${interaction.contact_id}/timeline?limit=20`),
  ]);
  if (shown !== interaction.id) return;
  if (!contact.ok) { body.replaceChildren(el("p", { class: "muted" }, contact.error.message)); return; }
  const c = contact.data;
  const fields = Object.entries(c.fields || {});
  body.replaceChildren(...[
    el("h3", { class: "contact-name" }, c.display_name || t("customer.no_name")),
    el("h4", {}, t("customer.identities")),
    el("ul", { class: "plain" }, ...c.identities.map((i) => el("li", {}, el("span", { class: "muted" }, t(`identity.${i.kind}`), ": "), i.value))),
    c.tags.length ? el("p", {}, ...c.tags.map((tag) => el("span", { class: "tag" }, tag))) : null,
    fields.length ? el("dl", {}, ...fields.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))])) : null,
    el("h4", {}, t("customer.timeline")),
    el("ol", { class: "timeline plain" }, ...(timeline.ok ? timeline.data.items : []).map((e) => el("li", {},
      el("strong", {}, e.channel === "voice" ? t("console.call") : t(`channel.${e.channel}`)), " · ",
      fmt.dateTime(e.arrived_at), " · ", t(`outcome.${e.outcome || e.state}`),
      e.disposition ? ` · ${e.disposition.label}` : "",
      e.notes ? el("div", { class: "muted" }, e.notes) : null))),
  ].filter(Boolean));
}
