// The agent's interactions, one tab each: a chat (messages, reply, canned responses, notes, transfer,
// resolve) or a call (hold, mute, keypad, transfer, hang up, recording), and the wrap-up's disposition and
// notes. Whatever the agent types is kept in sessionStorage at once: switching tabs or reloading the page
// never loses it.

import { api, t, fmt, el, toast } from "./common.js";
import { showCustomer } from "./customer.js";
import { bodyNode, statusNode, uploadFile, TypingSignal, typingIndicator, windowControls } from "./chat_extras.js";
import { screenPop, forgetScreenPop } from "./screen_pop.js";
import { keepDraft, clearDraft, forgetDrafts } from "./drafts.js";

/** A textarea whose text is kept as a draft of the interaction `id` (see drafts.js). */
function draftArea(id, field, attrs) {
  return keepDraft(el("textarea", attrs), id, field);
}

export class Workspace {
  constructor({ agentId, queues, getPhone }) {
    this.agentId = agentId;
    this.queues = queues;
    this.getPhone = getPhone;
    this.tabs = new Map(); // id -> {interaction, tab, panel, ...}
    this.active = Number(sessionStorage.getItem("tpx-active-tab")) || null;
    this.dispositions = [];
    this.canned = [];
    this.agents = new Map(); // directory for transfers: id -> {display_name, number, state}
    this.queueDirectory = new Map(); // every queue of the center, to transfer to: id -> {name, channels, waiting, ready_agents}
  }

  async loadReference() {
    const [dispositions, canned, agents] = await Promise.all([
      api("GET", "/api/v1/dispositions?limit=500"),
      api("GET", "/api/v1/canned-responses?limit=500"),
      this.loadDirectory(),
      this.loadQueueDirectory(),
    ]);
    this.dispositions = dispositions.ok ? dispositions.data.items : [];
    this.canned = canned.ok ? canned.data.items : [];
  }

  /** Colleagues to transfer to, with their state now (their state changes are not on an agent's stream). */
  async loadDirectory() {
    const r = await api("GET", "/api/v1/agents-directory");
    if (!r.ok) return;
    this.agents.clear();
    for (const a of r.data) this.agents.set(a.id, a);
  }

  /** Every queue of the center with how busy it is now: an agent transfers to queues they do not work in. */
  async loadQueueDirectory() {
    const r = await api("GET", "/api/v1/queues-directory");
    if (!r.ok) return;
    this.queueDirectory.clear();
    for (const q of r.data) this.queueDirectory.set(q.id, q);
  }

  /** Opens (or shows) the tab of an interaction; `focus` brings it to the front. */
  async open(id, focus) {
    if (this.tabs.has(id)) { if (focus) this.select(id); return; }
    this.tabs.set(id, { loading: true });
    let r = await api("GET", `/api/v1/interactions/${id}`);
    // A call's record is written just after its live event is published: until it names this agent, the
    // API answers 404 or 403; that means "not yet", so ask again for a few seconds.
    for (let tries = 0; [403, 404].includes(r.status) && tries < 20; tries++) {
      await new Promise((done) => setTimeout(done, 250));
      r = await api("GET", `/api/v1/interactions/${id}`);
    }
    if (!r.ok) { this.tabs.delete(id); toast(r.error.message); return; }
    const interaction = r.data;
    const entry = { interaction, ended: false };
    this.tabs.set(id, entry);
    entry.tab = el("button", { type: "button", role: "tab", id: `tab-${id}`, "aria-controls": `panel-${id}`,
      dataset: { interaction: id }, onclick: () => this.select(id), onkeydown: (e) => this.tabKeys(e) });
    entry.panel = el("section", { role: "tabpanel", id: `panel-${id}`, "aria-labelledby": `tab-${id}`, class: "panel card",
      hidden: true });
    document.getElementById("tabs").append(entry.tab);
    document.getElementById("panels").append(entry.panel);
    if (interaction.channel === "voice") this.renderCall(entry); else await this.renderChat(entry);
    this.renderTabLabel(entry);
    document.getElementById("no-work").hidden = true;
    if (focus || !this.current() || this.active === id) this.select(id);
    screenPop(id, entry.panel, focus);
  }

  current() { return this.tabs.get(this.active) && this.tabs.get(this.active).panel ? this.active : null; }

  select(id) {
    this.active = id;
    sessionStorage.setItem("tpx-active-tab", String(id));
    for (const [key, entry] of this.tabs) {
      if (!entry.panel) continue;
      const on = key === id;
      entry.tab.setAttribute("aria-selected", on ? "true" : "false");
      entry.tab.tabIndex = on ? 0 : -1;
      entry.panel.hidden = !on;
    }
    const entry = this.tabs.get(id);
    if (entry && entry.interaction) showCustomer(entry.interaction);
  }

  tabKeys(event) {
    const ids = [...this.tabs.keys()].filter((k) => this.tabs.get(k).panel);
    const at = ids.indexOf(this.active);
    let next = null;
    if (event.key === "ArrowRight") next = ids[(at + 1) % ids.length];
    if (event.key === "ArrowLeft") next = ids[(at - 1 + ids.length) % ids.length];
    if (next !== null) { this.select(next); this.tabs.get(next).tab.focus(); event.preventDefault(); }
  }

  renderTabLabel(entry) {
    const i = entry.interaction;
    const who = i.caller_name || i.caller_id || `#${i.id}`;
    const kind = i.channel === "voice" ? t("console.call") : t(`channel.${i.channel}`);
    entry.tab.textContent = `${kind} · ${who}${entry.ended ? ` (${t("console.ended")})` : ""}`;
    entry.tab.classList.toggle("ended", entry.ended);
  }

  close(id) {
    const entry = this.tabs.get(id);
    if (!entry || !entry.panel) return;
    entry.tab.remove();
    entry.panel.remove();
    this.tabs.delete(id);
    forgetDrafts(id);
    forgetScreenPop(id);
    if (entry.typingSignal) entry.typingSignal.stop();
    const rest = [...this.tabs.keys()];
    if (rest.length) this.select(rest[0]); else document.getElementById("no-work").hidden = false;
  }

  // --- shared parts ---

  queueName(id) { const q = this.queues.get(id) || this.queueDirectory.get(id); return q ? q.name : id ? `#${id}` : "—"; }

  dispositionSelect(selected) {
    return el("select", { name: "disposition" }, el("option", { value: "" }, t("console.no_disposition")),
      ...this.dispositions.map((d) => el("option", { value: d.id, selected: d.id === selected }, d.label)));
  }

  /** Where an interaction of this channel can go: the queues that take it, then the colleagues. */
  transferTargets(channel) {
    const select = el("select", { name: "target" });
    const fill = () => {
      const chosen = select.value;
      select.replaceChildren(...this.transferOptions(channel));
      if (chosen) select.value = chosen;
    };
    select.addEventListener("focus", () => Promise.all([this.loadDirectory(), this.loadQueueDirectory()]).then(fill));
    fill();
    return select;
  }

  transferOptions(channel) {
    const agents = [...this.agents.values()].filter((a) => a.id !== this.agentId);
    const queues = [...this.queueDirectory.values()].filter((q) => q.channels.includes(channel));
    return [
      el("optgroup", { label: t("console.queues") },
        ...queues.map((q) => el("option", { value: `queue:${q.id}` },
          `${q.name} — ${t("console.queue_load", { waiting: q.waiting, ready: q.ready_agents })}`))),
      el("optgroup", { label: t("console.agents") },
        ...agents.map((a) => el("option", { value: `agent:${a.id}`, dataset: { state: a.state } },
          `${a.display_name || a.number} — ${a.state ? t(`state.${a.state}`) : t("state.unknown")}`)))];
  }

  /** Disposition and notes, stored on the interaction before the wrap-up ends. */
  wrapupForm(entry) {
    const i = entry.interaction;
    const select = this.dispositionSelect(i.disposition_id);
    const notes = draftArea(i.id, "wrapup-notes", { name: "notes", rows: 2 });
    if (!notes.value && i.notes) notes.value = i.notes;
    const saved = el("span", { class: "muted", "aria-live": "polite" });
    entry.wrapupError = el("p", { class: "field-error wrapup-missing", hidden: true }); // the toast announces it
    const form = el("form", { class: "wrapup", onsubmit: async (e) => {
      e.preventDefault();
      const body = { notes: notes.value || null };
      if (select.value) body.disposition_id = Number(select.value);
      const r = await api("PATCH", `/api/v1/interactions/${i.id}`, body);
      if (!r.ok) { toast(r.error.message); return; }
      entry.interaction = { ...entry.interaction, ...r.data };
      entry.saved = true;
      clearDraft(notes, i.id);
      notes.value = r.data.notes || "";
      saved.textContent = t("console.saved");
      entry.wrapupError.hidden = true;
      for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    } },
    el("h3", {}, t("console.wrapup")),
    el("label", {}, t("console.disposition"), select),
    el("label", {}, t("console.notes"), notes),
    el("button", { type: "submit" }, t("console.save")), saved, entry.wrapupError);
    entry.saved = i.disposition_id !== null;
    return form;
  }

  /** The server refused to end the wrap-up (409 wrapup_incomplete; the queue's or campaign's rule decides what
   * a call needs): say what is missing, bring that call's tab to the front and mark its fields. */
  async showWrapupMissing(error) {
    const first = ((error.details || {}).interactions || [])[0];
    if (error.code !== "wrapup_incomplete" || !first) return false;
    const what = first.missing.map((m) => t(`console.missing.${m}`) + (m === "form" && first.fields.length
      ? ` (${first.fields.join(", ")})` : ""));
    const text = t("console.wrapup_missing", { what: what.join(", ") }); // at the form, beside the fields
    toast(first.missing.join() === "disposition" ? t("console.disposition_required") : text);
    await this.open(first.interaction_id, true);
    this.select(first.interaction_id);
    const entry = this.tabs.get(first.interaction_id);
    if (!entry || !entry.panel) return true;
    if (entry.wrapupError) { entry.wrapupError.textContent = text; entry.wrapupError.hidden = false; }
    const controls = [];
    if (first.missing.includes("disposition")) controls.push(entry.panel.querySelector("form.wrapup [name=disposition]"));
    if (first.missing.includes("notes")) controls.push(entry.panel.querySelector("form.wrapup [name=notes]"));
    for (const name of first.fields || []) controls.push(document.getElementById(`cf-${name}`));
    const shown = controls.filter(Boolean);
    for (const c of shown) c.setAttribute("aria-invalid", "true");
    if (shown.length) shown[0].focus();
    return true;
  }

  /** The server refused to resolve a chat (409 wrapup_incomplete: its queue requires a disposition or notes):
   * say what is missing beside the resolve button, mark those fields and focus the first. */
  showResolveMissing(error, form, where) {
    const first = ((error.details || {}).interactions || [])[0];
    if (error.code !== "wrapup_incomplete" || !first) return false;
    const text = t("console.resolve_missing", { what: first.missing.map((m) => t(`console.missing.${m}`)).join(", ") });
    where.textContent = text;
    where.hidden = false;
    toast(text);
    const controls = first.missing.map((m) => form.querySelector(`[name=${m}]`)).filter(Boolean);
    for (const c of controls) c.setAttribute("aria-invalid", "true");
    if (controls.length) controls[0].focus();
    return true;
  }

  // --- chats ---

  async renderChat(entry) {
    const i = entry.interaction;
    entry.log = el("ol", { class: "messages", role: "log", "aria-live": "polite", "aria-label": t("console.messages") });
    entry.typing = typingIndicator();
    const reply = draftArea(i.id, "reply", { name: "reply", rows: 3, "aria-label": t("console.reply") });
    const send = async (body) => {
      const r = await api("POST", `/api/v1/conversations/${i.id}/reply`, body);
      if (!r.ok) {
        toast(r.error.message);
        if (r.error.code === "window_closed" && entry.window) entry.window.refresh();
        return false;
      }
      await this.loadMessages(entry);
      return true;
    };
    reply.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    if (i.channel === "webchat") { // only the web chat shows the agent's typing to the customer
      entry.typingSignal = new TypingSignal(i.id);
      reply.addEventListener("input", () => { if (reply.value) entry.typingSignal.keystroke(); else entry.typingSignal.stop(); });
    }
    // a file goes with the reply, its text the caption (web chat: the center keeps the file)
    const file = el("input", { type: "file", name: "attachment", "aria-label": t("console.attach"), hidden: i.channel !== "webchat" });
    const form = el("form", { class: "reply", onsubmit: async (e) => {
      e.preventDefault();
      const chosen = file.files && file.files[0];
      if (!reply.value.trim() && !chosen) return;
      if (entry.typingSignal) entry.typingSignal.stop();
      let body = { text: reply.value };
      if (chosen) {
        toast(t("console.uploading"));
        const up = await uploadFile(i.id, chosen);
        if (!up.ok) { toast(up.error.message); return; }
        body = { ...up.body, ...(reply.value.trim() ? { text: reply.value } : {}) };
      }
      if (await send(body)) { clearDraft(reply, i.id); file.value = ""; }
    } }, reply, el("div", { class: "row" }, file, el("button", { type: "submit" }, t("console.send"))));
    entry.window = windowControls(i.id, form, send);

    const canned = el("select", { name: "canned", "aria-label": t("console.canned") },
      ...this.canned.map((c) => el("option", { value: c.id }, `/${c.shortcut} — ${c.title}`)));
    const cannedForm = el("form", { class: "row", onsubmit: (e) => {
      e.preventDefault();
      if (canned.value) send({ canned_response_id: Number(canned.value) });
    } }, el("label", { class: "inline" }, t("console.canned"), canned),
    el("button", { type: "submit", class: "secondary", disabled: !this.canned.length }, t("console.send_canned")));

    const note = draftArea(i.id, "note", { name: "note", rows: 2, "aria-label": t("console.private_note") });
    const noteForm = el("form", { class: "note", onsubmit: async (e) => {
      e.preventDefault();
      if (!note.value.trim()) return;
      const r = await api("POST", `/api/v1/conversations/${i.id}/notes`, { text: note.value });
      if (!r.ok) { toast(r.error.message); return; }
      entry.notes.push({ at: new Date().toISOString(), text: note.value });
      clearDraft(note, i.id);
      this.drawMessages(entry);
    } }, el("label", {}, t("console.private_note"), note), el("button", { type: "submit", class: "secondary" }, t("console.add_note")));

    const target = this.transferTargets(i.channel);
    const transferForm = el("form", { class: "row", onsubmit: async (e) => {
      e.preventDefault();
      const [kind, id] = target.value.split(":");
      const r = await api("POST", `/api/v1/conversations/${i.id}/transfer`, { [`${kind}_id`]: Number(id) });
      if (!r.ok) { toast(r.error.message); return; }
      toast(t("console.transferred"));
      this.close(i.id);
    } }, el("label", { class: "inline" }, t("console.transfer_to"), target),
    el("button", { type: "submit", class: "secondary" }, t("console.transfer")));

    const disposition = this.dispositionSelect(i.disposition_id);
    // wrap-up notes, stored on the conversation before it is resolved (its queue may require them)
    const resolveNotes = draftArea(i.id, "resolve-notes", { name: "notes", rows: 1 });
    if (!resolveNotes.value && i.notes) resolveNotes.value = i.notes;
    const resolveError = el("p", { class: "field-error wrapup-missing", hidden: true }); // the toast announces it
    const resolveForm = el("form", { class: "row resolve-form", onsubmit: async (e) => {
      e.preventDefault();
      resolveError.hidden = true;
      for (const n of resolveForm.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
      const notes = resolveNotes.value.trim() ? resolveNotes.value : null;
      if (notes !== (entry.interaction.notes || null)) {
        const saved = await api("PATCH", `/api/v1/interactions/${i.id}`, { notes });
        if (!saved.ok) { toast(saved.error.message); return; }
        entry.interaction = { ...entry.interaction, ...saved.data };
      }
      const body = disposition.value ? { disposition_id: Number(disposition.value) } : {};
      const r = await api("POST", `/api/v1/conversations/${i.id}/resolve`, body);
      if (!r.ok) { if (!this.showResolveMissing(r.error, resolveForm, resolveError)) toast(r.error.message); return; }
      clearDraft(resolveNotes, i.id);
      toast(t("console.resolved"));
      this.close(i.id);
    } }, el("label", { class: "inline" }, t("console.disposition"), disposition),
    el("label", { class: "inline" }, t("console.notes"), resolveNotes),
    el("button", { type: "submit", class: "resolve" }, t("console.resolve")), resolveError);

    entry.notes = [];
    entry.panel.append(
      el("header", { class: "panel-head" }, el("h2", {}, t(`channel.${i.channel}`), " · ", i.caller_name || i.caller_id || ""),
        el("span", { class: "muted" }, t("console.in_queue", { queue: this.queueName(i.queue_id) }))),
      entry.window.line, entry.log, entry.typing, form, entry.window.templateForm, cannedForm, noteForm,
      el("div", { class: "row split" }, transferForm, resolveForm));
    await this.loadMessages(entry);
    entry.window.refresh();
    const detail = await api("GET", `/api/v1/interactions/${i.id}`);
    if (detail.ok) {
      entry.notes = (detail.data.timeline || []).filter((e) => e.kind === "note")
        .map((e) => ({ at: e.at, text: (e.data || {}).text }));
      this.drawMessages(entry);
    }
  }

  async loadMessages(entry) {
    const r = await api("GET", `/api/v1/conversations/${entry.interaction.id}/messages?limit=500`);
    if (!r.ok) return;
    entry.messages = r.data.items;
    this.drawMessages(entry);
  }

  drawMessages(entry) {
    const items = [
      ...(entry.messages || []).map((m) => ({ at: m.created_at, node: el("li", { class: `msg ${m.direction}`, dataset: { messageId: m.id } },
        bodyNode(m),
        el("span", { class: "meta" }, fmt.time(m.created_at), m.direction === "out" ? statusNode(m) : null)) })),
      ...entry.notes.map((n) => ({ at: n.at, node: el("li", { class: "msg note" }, el("span", { class: "text" }, n.text),
        el("span", { class: "meta" }, t("console.private_note"), " · ", fmt.time(n.at))) })),
    ].sort((a, b) => new Date(a.at) - new Date(b.at));
    entry.log.replaceChildren(...items.map((x) => x.node));
    entry.log.scrollTop = entry.log.scrollHeight;
  }

  // --- calls ---

  renderCall(entry) {
    const i = entry.interaction;
    const call = (path, body) => api("POST", `/api/v1/interactions/${i.id}/${path}`, body).then((r) => {
      if (!r.ok) toast(r.error.message);
      return r;
    });
    const phone = this.getPhone();
    const hold = el("button", { type: "button", class: "secondary", "aria-pressed": "false", onclick: async () => {
      const held = hold.getAttribute("aria-pressed") === "true";
      if ((await call(held ? "unhold" : "hold")).ok) setHeld(!held);
    } }, t("call.hold"));
    // a consult holds the customer and going back takes them off hold: the button says what it will do
    const setHeld = (held) => { hold.setAttribute("aria-pressed", held ? "true" : "false"); hold.textContent = held ? t("call.unhold") : t("call.hold"); };
    const mute = el("button", { type: "button", class: "secondary", "aria-pressed": "false", hidden: !phone, onclick: () => {
      const on = this.getPhone() && this.getPhone().toggleMute();
      mute.setAttribute("aria-pressed", on ? "true" : "false");
      mute.textContent = on ? t("call.unmute") : t("call.mute");
    } }, t("call.mute"));
    const answer = el("button", { type: "button", class: "accept", hidden: true, onclick: () => this.getPhone().answer() },
      t("console.answer"));
    entry.answerButton = answer;
    const keypad = el("div", { class: "keypad", role: "group", "aria-label": t("call.keypad") },
      ..."123456789*0#".split("").map((d) => el("button", { type: "button", class: "key", onclick: () => {
        const p = this.getPhone();
        if (p && p.call) p.dtmf(d); else call("dtmf", { digits: d });
      } }, d)));
    const kind = el("select", { name: "kind", "aria-label": t("call.transfer_kind") },
      el("option", { value: "target" }, t("call.to_agent_or_queue")), el("option", { value: "number" }, t("call.to_number")));
    const target = this.transferTargets("voice");
    const number = el("input", { name: "number", placeholder: "+34600000000", "aria-label": t("call.number"), hidden: true });
    kind.addEventListener("change", () => { target.hidden = kind.value !== "target"; number.hidden = kind.value !== "number"; });
    const destination = (consult) => {
      if (kind.value === "number") return consult ? { number: number.value } : { to: { kind: "number", number: number.value } };
      const [k, id] = target.value.split(":");
      return consult ? { [`${k}_id`]: Number(id) } : { to: { kind: k, [`${k}_id`]: Number(id) } };
    };
    const chosenName = () => {
      if (kind.value === "number") return number.value;
      const [k, id] = target.value.split(":");
      if (k === "queue") return this.queueName(Number(id));
      const a = this.agents.get(Number(id));
      return a ? a.display_name || a.number : `#${id}`;
    };
    const consultStatus = el("p", { class: "consult-status", role: "status", hidden: true });
    const consultActions = el("span", { hidden: true },
      el("button", { type: "button", onclick: async () => { if ((await call("consult/complete")).ok) consultOver(null); } },
        t("call.complete_transfer")),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        if (!(await call("consult/cancel")).ok) return;
        consultOver(t("call.back_with_customer"));
        setHeld(false);
      } }, t("call.cancel_consult")));
    const consultOver = (text) => {
      consultActions.hidden = true;
      consultStatus.textContent = text || "";
      consultStatus.hidden = !text;
    };
    // the consulted party hung up or never answered: the customer is still on hold (interaction.consult_ended)
    entry.consultEnded = () => {
      if (consultActions.hidden) return;
      consultOver(t("call.consult_ended"));
      setHeld(true);
    };
    const transfer = el("div", { class: "row" }, kind, target, number,
      el("button", { type: "button", class: "secondary", onclick: () => call("transfer", destination(false)) }, t("call.blind_transfer")),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        const whom = chosenName();
        if (!(await call("consult", destination(true))).ok) return;
        consultActions.hidden = false;
        consultStatus.textContent = t("call.consulting", { name: whom });
        consultStatus.hidden = false;
        setHeld(true);
      } }, t("call.consult")), consultActions);
    const recording = el("div", { class: "row" },
      el("button", { type: "button", class: "secondary", onclick: () => call("recording/pause").then((r) => r.ok && toast(t("call.recording_paused"))) },
        t("call.recording_pause")),
      el("button", { type: "button", class: "secondary", onclick: () => call("recording/resume").then((r) => r.ok && toast(t("call.recording_resumed"))) },
        t("call.recording_resume")));
    entry.panel.append(
      el("header", { class: "panel-head" }, el("h2", {}, t("console.call"), " · ", i.caller_name || i.caller_id || t("console.unknown_caller")),
        el("span", { class: "muted" }, t("console.in_queue", { queue: this.queueName(i.queue_id) }))),
      el("div", { class: "row" }, answer, hold, mute,
        el("button", { type: "button", class: "danger", onclick: () => { const p = this.getPhone(); if (p && p.call) p.hangup(); else call("hangup"); } },
          t("call.hangup"))),
      keypad, el("h3", {}, t("call.transfer")), transfer, consultStatus, el("h3", {}, t("call.recording")), recording,
      this.wrapupForm(entry));
  }

  /** A call rings the browser phone (or stops ringing: `call` null). */
  phoneRinging(call) {
    for (const entry of this.tabs.values()) if (entry.answerButton) entry.answerButton.hidden = !call;
    if (call) toast(t("phone.incoming", { from: call.from || "" }));
  }

  // --- events ---

  /** After the agent's own state changes, a call tab whose call is now someone else's (a blind transfer, a
   * completed consult: the events of the call's new queue may not reach this agent) closes; one that ended
   * while the event was missed shows as ended. An agent no longer on a call whose record still says "mine,
   * live" is looking at a record about to be written: it is asked again for a few seconds. */
  async recheckCalls(agentState) {
    const offCall = ["wrap_up", "ready", "paused", "logged_out"].includes(agentState);
    for (const [id, entry] of [...this.tabs]) {
      if (!entry.panel || entry.ended || entry.interaction.channel !== "voice") continue;
      for (let tries = 0; tries < 20; tries++) {
        const r = await api("GET", `/api/v1/interactions/${id}`);
        if (!this.tabs.has(id) || (!r.ok && ![403, 404].includes(r.status))) break;
        const mine = r.ok && r.data.agent_id === this.agentId; // 403: the call is someone else's now
        if (mine && r.data.state === "ended") {
          entry.ended = true;
          this.renderTabLabel(entry);
          break;
        }
        if (!mine || !["connected", "held"].includes(r.data.state)) {  // transferred away
          toast(t("console.transferred"));
          this.close(id);
          break;
        }
        if (!offCall) break;
        await new Promise((done) => setTimeout(done, 250));
      }
    }
  }

  onEvent(event) {
    const d = event.data || {};
    if (event.type === "agent.state" && this.agents.has(d.agent_id)) {
      this.agents.get(d.agent_id).state = d.state;
      return;
    }
    const entry = this.tabs.get(d.interaction_id);
    if (event.type === "interaction.connected" && d.agent_id === this.agentId) { this.open(d.interaction_id, true); return; }
    // a colleague completed a consult with this agent: the call is theirs now
    if (event.type === "interaction.transferred" && d.channel === "voice" && d.agent_id === this.agentId && !entry) {
      this.open(d.interaction_id, true);
      return;
    }
    if (!entry || !entry.panel) return;
    if (event.type === "interaction.consult_ended") { if (entry.consultEnded) entry.consultEnded(); return; }
    if (event.type === "conversation.typing") { if (d.who === "visitor" && entry.typing) entry.typing.show(d.typing); return; }
    if (event.type === "conversation.message" || event.type === "conversation.message_status") {
      if (event.type === "conversation.message" && entry.typing) entry.typing.show(false); // the message it was typing
      this.loadMessages(entry);
      if (event.type === "conversation.message" && entry.window) entry.window.refresh(); // a customer's message reopens it
      return;
    }
    if (["interaction.ended", "interaction.resolved"].includes(event.type)) {
      entry.ended = true;
      this.renderTabLabel(entry);
      return;
    }
    if (event.type === "interaction.transferred" && d.agent_id !== this.agentId) this.close(d.interaction_id);
  }
}
