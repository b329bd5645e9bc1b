// The agent console's campaign panel: the running campaigns the agent works on, preview dialing (the lead
// card with its history and script, dial or skip with a reason), manual dialing, and scheduling a callback
// for the current interaction's customer or the last lead. Every action is one call to the campaigns API.
// A lead card open and the answers typed on it survive a reload: the server keeps the lead held for the agent
// (previewing again returns it), and the answers are drafts in sessionStorage. Dialed, they become the drafts
// of the call's form, which survives a reload too (its attempt is remembered) until its answers are saved.

import { PAGE, api, t, fmt, el, toast } from "./common.js";
import { keepDraft, forgetDrafts, moveDrafts } from "./drafts.js";

const $ = (id) => document.getElementById(id);

/** sessionStorage: `{campaignId, leadId}` of the lead card on screen, to show it again after a reload. */
const OPEN_LEAD = "tpx-lead-card";
/** The drafts' owner for the answers prepared on a lead's card. */
const leadDrafts = (leadId) => `lead-${leadId}`;
/** sessionStorage: the attempt id of the call's form on screen with answers not saved, to show it after a reload. */
const OPEN_FORM = "tpx-call-form";
/** The drafts' owner for the answers typed in a campaign call's form. */
const callDrafts = (attemptId) => `attempt-${attemptId}`;

function openLead() {
  try { return JSON.parse(sessionStorage.getItem(OPEN_LEAD) || "null"); } catch { return null; }
}

/** An instant (UTC ISO) from a `datetime-local` value read as wall time in `zone` (the user's time zone). */
export function zonedToUtc(wall, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall || "");
  if (!m) return null;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  const offset = (at) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(at)).map((p) => [p.type, p.value]));
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - at;
  };
  let guess = asUtc - offset(asUtc);
  guess = asUtc - offset(guess); // once more, for the hours around a change of summer time
  return new Date(guess).toISOString();
}

/** The lead's name as people read it. */
function leadName(lead) {
  return [lead.first_name, lead.last_name].filter(Boolean).join(" ") || t("customer.no_name");
}

/** The campaign's script with {first_name}, {phone} and the lead's attributes filled in. */
function fillScript(script, lead) {
  const values = { ...lead.attributes, first_name: lead.first_name || "", last_name: lead.last_name || "", phone: lead.phone };
  return script.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

export class CampaignPanel {
  /** `getInteraction()` gives the interaction open in the workspace (or null): the callback's default customer. */
  constructor({ agentId, queues, memberQueueIds, getInteraction }) {
    this.agentId = agentId;
    this.queues = queues;
    this.memberQueueIds = memberQueueIds;
    this.getInteraction = getInteraction;
    this.campaigns = [];
    this.lead = null; // {campaign, lead, history, script} being previewed
    this.lastLead = null; // the last lead previewed or dialed: the callback's default when no interaction is open
    this.reopened = false;
  }

  /** The running campaigns again (the list and the manual dial's choice; a lead card or form stays as it is). */
  async load() {
    const r = await api("GET", "/api/v1/campaigns?state=running&limit=200");
    if (!r.ok) return;
    const seen = JSON.stringify(r.data.items.map((c) => [c.id, c.name, c.dial_mode]));
    if (seen === this.seen && $("campaign-list")) return; // unchanged: keep the buttons (and the focus) as they are
    this.seen = seen;
    this.campaigns = r.data.items;
    if (!$("campaign-list")) this.skeleton();
    const list = $("campaign-list");
    list.replaceChildren(...this.campaigns.map((c) => el("li", { dataset: { campaignId: c.id } },
      el("strong", {}, c.name), " ", el("span", { class: "muted" }, t("campaign.mode", { mode: t(`enum.${c.dial_mode}`) })), " ",
      c.dial_mode === "preview"
        ? el("button", { type: "button", class: "next-lead", onclick: () => this.preview(c) }, t("campaign.next_lead")) : null)));
    $("no-campaign").hidden = this.campaigns.length > 0;
    const select = $("manual-campaign");
    const chosen = select.value;
    select.replaceChildren(...this.campaigns.map((c) => el("option", { value: c.id, selected: String(c.id) === chosen }, c.name)));
    $("manual-dial-button").disabled = !this.campaigns.length;
    if (!this.reopened) { this.reopened = true; await this.reopenLead(); await this.reopenForm(); }
  }

  /** The call's form whose answers were not saved before the page was reloaded, with what was typed in it. */
  async reopenForm() {
    const attemptId = sessionStorage.getItem(OPEN_FORM);
    if (!attemptId) return;
    const r = await api("GET", `/api/v1/campaign-attempts/${attemptId}/form`);
    if ([403, 404].includes(r.status)) this.dropForm(attemptId); // no longer there to be answered by this agent
    if (r.ok) this.drawForm(r.data);
  }

  /** The lead card that was open before the page was reloaded, shown again with the answers typed on it. */
  async reopenLead() {
    const open = openLead();
    if (!open) return;
    const campaign = this.campaigns.find((c) => c.id === open.campaignId && c.dial_mode === "preview");
    if (!campaign) { sessionStorage.removeItem(OPEN_LEAD); return; } // stopped meanwhile: nothing to dial now
    await this.preview(campaign, { focus: false });
  }

  skeleton() {
    const manual = el("form", { class: "row manual-dial", novalidate: true, onsubmit: (e) => { e.preventDefault(); this.manualDial(); } },
      el("label", { class: "inline" }, t("campaign.number"), el("input", { id: "manual-number", type: "tel", autocomplete: "off" })),
      el("label", { class: "inline" }, t("campaign.campaign"), el("select", { id: "manual-campaign" })),
      el("button", { type: "submit", id: "manual-dial-button" }, t("campaign.dial")));
    $("campaigns-body").replaceChildren(
      el("ul", { id: "campaign-list", class: "plain campaign-list" }),
      el("p", { id: "no-campaign", class: "muted" }, t("campaign.none")),
      el("div", { id: "lead-card", hidden: true }),
      el("p", { id: "dial-status", class: "muted", role: "status" }),
      el("div", { id: "campaign-form-box" }),
      el("h3", {}, t("campaign.manual")), manual,
      el("div", { class: "row" }, el("button", { type: "button", id: "open-callback", class: "secondary",
        "aria-expanded": "false", onclick: () => this.callbackForm() }, t("campaign.schedule_callback"))),
      el("div", { id: "callback-box" }));
  }

  status(text) { $("dial-status").textContent = text; }

  problem(where, message) {
    const p = el("p", { class: "field-error", role: "alert" }, message);
    $(where).replaceChildren(p);
    $(where).hidden = false;
  }

  // --- preview dialing -------------------------------------------------------------------------------

  /** The lead the server holds for this agent on the campaign (the same one until dialed or skipped). */
  async preview(campaign, { focus = true } = {}) {
    this.status("");
    const r = await api("POST", `/api/v1/campaigns/${campaign.id}/preview`);
    if (!r.ok) {
      this.lead = null;
      sessionStorage.removeItem(OPEN_LEAD); // no card on screen; its answers stay for when the lead comes back
      this.problem("lead-card", r.error.message);
      return;
    }
    const before = openLead();
    if (before && before.campaignId === campaign.id && before.leadId !== r.data.lead.id) {
      forgetDrafts(leadDrafts(before.leadId)); // that lead is no longer held for this agent (a restart released it)
    }
    sessionStorage.setItem(OPEN_LEAD, JSON.stringify({ campaignId: campaign.id, leadId: r.data.lead.id }));
    this.lead = { campaign, ...r.data };
    this.lastLead = this.lead;
    this.drawLead();
    if (focus) $("lead-card").querySelector("button.dial").focus();
  }

  drawLead() {
    const { lead, history, script, campaign } = this.lead;
    const fields = this.lead.form_fields || [];
    const attributes = Object.entries(lead.attributes || {});
    const card = $("lead-card");
    card.hidden = false;
    card.replaceChildren(el("article", { class: "lead card", dataset: { leadId: lead.id }, "aria-labelledby": "lead-name" },
      el("h3", { id: "lead-name" }, leadName(lead)),
      el("p", {}, el("span", { class: "muted" }, t("campaign.number"), ": "), el("span", { class: "lead-phone" }, lead.phone),
        " · ", campaign.name),
      attributes.length ? el("dl", { class: "attributes" }, ...attributes.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])) : null,
      el("h4", {}, t("campaign.history")),
      history.length
        ? el("ul", { class: "plain history" }, ...history.map((a) => el("li", {},
          fmt.dateTime(a.dialed_at), " · ", a.number, " · ", a.outcome ? t(`attempt.${a.outcome}`) : t("attempt.in_progress"))))
        : el("p", { class: "muted" }, t("campaign.no_history")),
      script ? el("h4", {}, t("campaign.script")) : null,
      script ? el("p", { class: "script" }, fillScript(script, lead)) : null,
      fields.length ? el("section", { class: "lead-form", "aria-labelledby": "lead-form-title" },
        el("h4", { id: "lead-form-title" }, t("campaign.form_title", { name: campaign.name })),
        el("p", { class: "muted" }, t("campaign.form_prepare")),
        ...fields.map((f) => formField(f, undefined, "lf", leadDrafts(lead.id)))) : null,
      el("div", { class: "row" },
        el("button", { type: "button", class: "dial accept", onclick: () => this.dial() }, t("campaign.dial")),
        el("button", { type: "button", class: "skip-lead secondary", onclick: () => this.askSkip() }, t("campaign.skip"))),
      el("div", { class: "skip-box" })));
  }

  askSkip() {
    const box = $("lead-card").querySelector(".skip-box");
    const input = el("input", { id: "skip-reason", autocomplete: "off", maxlength: 200, "aria-describedby": "skip-error" });
    const error = el("p", { id: "skip-error", class: "field-error", hidden: true });
    box.replaceChildren(el("form", { class: "row", novalidate: true, onsubmit: (e) => { e.preventDefault(); this.skip(input, error); } },
      el("label", { class: "inline" }, t("campaign.skip_reason"), input),
      el("button", { type: "submit", class: "secondary" }, t("campaign.skip_confirm")),
      el("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, t("campaign.cancel")),
      error));
    input.focus();
  }

  async skip(input, error) {
    const reason = input.value.trim();
    if (!reason) {
      error.textContent = t("campaign.reason_needed");
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    const { campaign, lead } = this.lead;
    const r = await api("POST", `/api/v1/campaigns/${campaign.id}/leads/${lead.id}/skip`, { reason });
    if (!r.ok) { error.textContent = r.error.message; error.hidden = false; return; }
    this.lead = null;
    sessionStorage.removeItem(OPEN_LEAD);
    forgetDrafts(leadDrafts(lead.id));
    $("lead-card").replaceChildren();
    this.status(t("campaign.skipped"));
    const next = $("campaigns-body").querySelector(`li[data-campaign-id="${campaign.id}"] button.next-lead`);
    if (next) next.focus();
  }

  async dial() {
    const { campaign, lead } = this.lead;
    const r = await api("POST", `/api/v1/campaigns/${campaign.id}/leads/${lead.id}/dial`);
    if (!r.ok) {
      const card = $("lead-card").querySelector(".skip-box");
      card.replaceChildren(el("p", { class: "field-error", role: "alert" }, r.error.message));
      return;
    }
    this.lead = null;
    sessionStorage.removeItem(OPEN_LEAD);
    moveDrafts(leadDrafts(lead.id), callDrafts(r.data.id)); // what the agent prepared on the card fills the call's form
    $("lead-card").replaceChildren();
    this.status(t("campaign.dialing", { number: r.data.number }));
    await this.showForm(r.data.id);
  }

  // --- the campaign's script and form for the call being made ------------------------------------------

  /** A campaign call put through to this agent (progressive, predictive, a callback): show its form. */
  onEvent(event) {
    const d = event.data || {};
    if (event.type === "interaction.connected" && d.agent_id === this.agentId && d.channel === "voice") {
      this.formForCall(d.interaction_id);
    }
  }

  async formForCall(interactionId) {
    const r = await api("GET", `/api/v1/interactions/${interactionId}/campaign-form`);
    if (!r.ok) return; // not a campaign call
    const shown = $("campaign-form-box") && $("campaign-form-box").querySelector("form.campaign-form");
    if (shown && shown.dataset.attemptId === String(r.data.attempt_id)) return; // already there (preview dial)
    this.drawForm(r.data);
  }

  /** The script and form of the campaign for this attempt, kept on screen while the call goes on. */
  async showForm(attemptId) {
    const r = await api("GET", `/api/v1/campaign-attempts/${attemptId}/form`);
    if (!r.ok) { $("campaign-form-box").replaceChildren(el("p", { class: "field-error", role: "alert" }, r.error.message)); return; }
    this.drawForm(r.data);
  }

  /** The form is done with (its answers saved, or another call's form took its place): nothing to bring back. */
  dropForm(attemptId) {
    forgetDrafts(callDrafts(attemptId));
    if (sessionStorage.getItem(OPEN_FORM) === String(attemptId)) sessionStorage.removeItem(OPEN_FORM);
  }

  drawForm(data) {
    const box = $("campaign-form-box");
    if (!box) return;
    const { script, form_fields: fields, answers, campaign_name: name, lead, attempt_id: attemptId } = data;
    const before = box.querySelector("form.campaign-form"); // one call's form at a time
    if (before && before.dataset.attemptId !== String(attemptId)) this.dropForm(before.dataset.attemptId);
    if (!fields.length) { box.replaceChildren(); return; }
    const general = el("p", { class: "field-error", role: "alert", hidden: true });
    const form = el("form", { class: "campaign-form card", novalidate: true, dataset: { attemptId },
      onsubmit: (e) => { e.preventDefault(); this.saveAnswers(form, attemptId, fields, general); } },
    el("h3", {}, t("campaign.form_title", { name })),
    script ? el("p", { class: "script" }, lead ? fillScript(script, lead) : script) : null,
    general,
    // what the agent types (or prepared on the lead card) is a draft over the answers saved so far
    ...fields.map((f) => formField(f, answers[f.name], "cf", callDrafts(attemptId))),
    el("div", { class: "row" }, el("button", { type: "submit" }, t("campaign.save_answers"))));
    // nothing saved yet, or typed since: a reload shows this form again
    const remember = () => sessionStorage.setItem(OPEN_FORM, String(attemptId));
    if (!Object.keys(answers).length) remember();
    form.addEventListener("input", remember);
    form.addEventListener("change", remember);
    box.replaceChildren(form);
  }

  async saveAnswers(form, attemptId, fields, general) {
    for (const p of form.querySelectorAll(".field-error")) { p.hidden = true; p.textContent = ""; }
    for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    const answers = readAnswers(form, fields, "cf");
    const r = await api("PUT", `/api/v1/campaign-attempts/${attemptId}/form`, { answers });
    if (!r.ok) {
      let first = null;
      const details = Array.isArray(r.error.details) ? r.error.details : [];
      for (const d of details) {
        const name = String(d.field || "").replace(/^answers\./, "");
        const target = form.querySelector(`#cf-err-${CSS.escape(name)}`);
        if (!target) continue;
        target.textContent = d.message;
        target.hidden = false;
        const control = form.querySelector(`#cf-${CSS.escape(name)}`);
        control.setAttribute("aria-invalid", "true");
        first = first || control;
      }
      if (first) first.focus();
      else { general.textContent = r.error.message; general.hidden = false; }
      return;
    }
    this.dropForm(attemptId); // saved: the form stays on screen with them, nothing to bring back
    toast(t("campaign.answers_saved"));
    this.status(t("campaign.answers_saved"));
  }

  // --- manual dialing ----------------------------------------------------------------------------------

  async manualDial() {
    const number = $("manual-number").value.trim();
    const campaignId = Number($("manual-campaign").value);
    this.status("");
    const r = await api("POST", `/api/v1/campaigns/${campaignId}/dial`, { number });
    if (!r.ok) {
      $("dial-status").replaceChildren(el("span", { class: "field-error", role: "alert" }, r.error.message));
      return;
    }
    this.status(t("campaign.dialing", { number: r.data.number }));
    await this.showForm(r.data.id);
  }

  // --- callbacks ---------------------------------------------------------------------------------------

  /** Who the callback is for by default: the interaction open in the workspace, else the last lead. */
  context() {
    const i = this.getInteraction();
    if (i) return { number: i.caller_id || "", name: i.caller_name || "", queueId: i.queue_id, campaignId: null, leadId: null };
    if (this.lastLead) {
      const { lead, campaign } = this.lastLead;
      return { number: lead.phone, name: [lead.first_name, lead.last_name].filter(Boolean).join(" "),
        queueId: campaign.queue_id, campaignId: campaign.id, leadId: lead.id };
    }
    return { number: "", name: "", queueId: this.memberQueueIds()[0] ?? null, campaignId: null, leadId: null };
  }

  callbackForm() {
    const box = $("callback-box");
    const button = $("open-callback");
    if (box.firstChild) { box.replaceChildren(); button.setAttribute("aria-expanded", "false"); return; }
    button.setAttribute("aria-expanded", "true");
    const c = this.context();
    const input = (name, attrs = {}) => el("input", { id: `cb-${name}`, name, autocomplete: "off", "aria-describedby": `cb-err-${name}`, ...attrs });
    const field = (name, label, control) => el("div", { class: "field", dataset: { field: name } },
      el("label", { for: `cb-${name}` }, label), control, el("p", { class: "field-error", id: `cb-err-${name}`, hidden: true }));
    const teams = [
      ...this.campaigns.map((x) => el("option", { value: `c:${x.id}`, selected: x.id === c.campaignId }, t("campaign.campaign_option", { name: x.name }))),
      ...this.memberQueueIds().map((id) => el("option", { value: `q:${id}`, selected: !c.campaignId && id === c.queueId },
        t("campaign.queue_option", { name: (this.queues.get(id) || {}).name || `#${id}` }))),
    ];
    const general = el("p", { class: "field-error", role: "alert", hidden: true });
    const form = el("form", { class: "callback-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); this.saveCallback(form, c, general); } },
      general,
      field("number", t("campaign.number"), input("number", { type: "tel", value: c.number })),
      field("name", t("campaign.name"), input("name", { value: c.name })),
      el("fieldset", {}, el("legend", {}, t("campaign.callback_for")),
        el("label", { class: "choice" }, el("input", { type: "radio", name: "cb-for", value: "me", checked: true }), t("campaign.callback_me")),
        el("label", { class: "choice" }, el("input", { type: "radio", name: "cb-for", value: "team" }), t("campaign.callback_team"))),
      field("team", t("campaign.team"), el("select", { id: "cb-team", name: "team", "aria-describedby": "cb-err-team" }, ...teams)),
      el("p", { class: "muted" }, t("campaign.times_in", { zone: PAGE.timezone })),
      field("due_at", t("campaign.from"), input("due_at", { type: "datetime-local" })),
      field("due_until", t("campaign.until"), input("due_until", { type: "datetime-local" })),
      field("note", t("campaign.note"), el("textarea", { id: "cb-note", name: "note", rows: 2, "aria-describedby": "cb-err-note" })),
      el("div", { class: "row" }, el("button", { type: "submit" }, t("campaign.save_callback")),
        el("button", { type: "button", class: "secondary", onclick: () => this.callbackForm() }, t("campaign.cancel"))));
    box.replaceChildren(form);
    form.querySelector("#cb-number").focus();
  }

  async saveCallback(form, context, general) {
    for (const p of form.querySelectorAll(".field-error")) { p.hidden = true; p.textContent = ""; }
    for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    const value = (name) => form.querySelector(`#cb-${name}`).value.trim();
    const team = value("team");
    const body = { number: value("number"), name: value("name") || undefined, note: value("note") || undefined,
      due_at: zonedToUtc(value("due_at"), PAGE.timezone) || undefined,
      due_until: zonedToUtc(value("due_until"), PAGE.timezone) || undefined };
    if (team.startsWith("c:")) body.campaign_id = Number(team.slice(2)); else if (team) body.queue_id = Number(team.slice(2));
    if (context.leadId && body.campaign_id === context.campaignId) body.lead_id = context.leadId;
    if (form.querySelector("input[name=cb-for]:checked").value === "me") body.agent_id = this.agentId;
    const r = await api("POST", "/api/v1/callbacks", body);
    if (!r.ok) {
      const fields = fieldsOf(r.error);
      let shown = false;
      for (const [name, message] of Object.entries(fields)) {
        const target = form.querySelector(`#cb-err-${name}`);
        if (!target) continue;
        target.textContent = message;
        target.hidden = false;
        form.querySelector(`#cb-${name}`).setAttribute("aria-invalid", "true");
        shown = true;
      }
      if (!shown) { general.textContent = r.error.message; general.hidden = false; }
      return;
    }
    toast(t("campaign.callback_saved"));
    this.status(t("campaign.callback_saved"));
    this.callbackForm(); // closes it
  }
}

/** The answers typed in a campaign form's fields (ids `<prefix>-<name>`): unanswered ones are left out. */
function readAnswers(root, fields, prefix) {
  const answers = {};
  for (const f of fields) {
    const control = root.querySelector(`#${prefix}-${CSS.escape(f.name)}`);
    if (!control) continue;
    if (f.type === "checkbox") answers[f.name] = control.checked;
    else if (f.type === "number" && control.value !== "") answers[f.name] = Number.isNaN(Number(control.value)) ? control.value : Number(control.value);
    else if (control.value.trim() !== "") answers[f.name] = control.value;
  }
  return answers;
}

/** One field of a campaign's form, with its current answer and a place for its error (`prefix`: the call's
 * form "cf", the lead card "lf", so both may be on screen at once). With `draftOwner`, what the agent
 * types is kept as a draft (see drafts.js) and shown again after a reload. */
function formField(f, value, prefix = "cf", draftOwner = null) {
  const id = `${prefix}-${f.name}`;
  const attrs = { id, name: f.name, "aria-describedby": `${prefix}-err-${f.name}`, "aria-required": f.required ? "true" : undefined };
  let control;
  if (f.type === "textarea") control = el("textarea", { ...attrs, rows: 2 }, value ?? "");
  else if (f.type === "select") {
    control = el("select", attrs, el("option", { value: "" }, t("campaign.choose")),
      ...f.options.map((o) => el("option", { value: o, selected: o === value }, o)));
  } else if (f.type === "checkbox") control = el("input", { ...attrs, type: "checkbox", checked: value === true });
  else {
    const type = { number: "number", date: "date" }[f.type] || "text";
    control = el("input", { ...attrs, type, step: f.type === "number" ? "any" : undefined, autocomplete: "off", value: value ?? "" });
  }
  if (draftOwner !== null) keepDraft(control, draftOwner, f.name);
  const label = el("label", { for: id }, f.label, f.required ? ` ${t("campaign.required")}` : "");
  const error = el("p", { class: "field-error", id: `${prefix}-err-${f.name}`, hidden: true });
  return f.type === "checkbox"
    ? el("div", { class: "field", dataset: { field: f.name } }, control, " ", label, error)
    : el("div", { class: "field", dataset: { field: f.name } }, label, control, error);
}

/** The form field each API error names (validation details, or the "field: ..." prefix). */
function fieldsOf(error) {
  const out = {};
  const details = Array.isArray(error.details) ? error.details : error.details ? [error.details] : [];
  for (const d of details) {
    if (!d || !d.field) continue;
    const name = String(d.field).split(".").pop();
    out[["queue_id", "campaign_id", "agent_id", "lead_id"].includes(name) ? "team" : name] = d.message || error.message;
  }
  if (!Object.keys(out).length) {
    const m = /^([a-z_]+): (.*)$/.exec(error.message || "");
    if (m) out[["queue_id", "campaign_id", "agent_id", "lead_id"].includes(m[1]) ? "team" : m[1]] = m[2];
  }
  return out;
}
