// The agent console: device and login, the state bar, incoming work, and the live event stream that
// drives them. The interactions themselves (tabs, chat, call controls) live in work.js.

import { PAGE, api, t, fmt, el, toast, EventSocket } from "./common.js";
import { Workspace } from "./work.js";
import { BrowserPhone } from "./browser_phone.js";
import { CampaignPanel } from "./campaigns.js";
import { MyDay } from "./my_day.js";

const agentId = PAGE.me.agent_id;
const $ = (id) => document.getElementById(id);

const state = {
  presence: null, // {state, since, pause_reason, offers, interactions, wrapups}
  offers: new Map(), // interaction id -> offer event data
  consults: new Map(), // a colleague's call this agent is consulted about: interaction id -> {data, answered}
  queues: new Map(),
  profile: null,
  phone: null,
  pauseAfter: sessionStorage.getItem("tpx-pause-after") === "1",
};

const workspace = new Workspace({ agentId, queues: state.queues, getPhone: () => state.phone });
const campaigns = new CampaignPanel({ agentId, queues: state.queues,
  memberQueueIds: () => ((state.profile && state.profile.queues) || []).map((m) => m.queue_id),
  getInteraction: () => { const id = workspace.current(); return id ? workspace.tabs.get(id).interaction : null; } });

const myDay = new MyDay({ agentId, root: $("my-day-body") });

async function loadReference() {
  const [profile, queues, reasons] = await Promise.all([
    api("GET", `/api/v1/agents/${agentId}`),
    api("GET", "/api/v1/queues?limit=500"),
    api("GET", "/api/v1/pause-reasons?limit=500"),
  ]);
  state.profile = profile.ok ? profile.data : null;
  for (const q of queues.ok ? queues.data.items : []) state.queues.set(q.id, q);
  const select = $("pause-reason");
  select.replaceChildren(...(reasons.ok ? reasons.data.items : []).map((r) => el("option", { value: r.name }, r.name)));
  if (!select.options.length) select.append(el("option", { value: "break" }, t("console.pause_default")));
  $("device-input").value = (state.profile && state.profile.device && state.profile.device !== "browser")
    ? state.profile.device : "";
  await workspace.loadReference();
}

// --- login and device ----------------------------------------------------------------------------------

async function browserPhoneAvailable() {
  const [script, schema] = await Promise.all([
    fetch("/static/phone.js", { method: "HEAD" }).then((r) => r.ok).catch(() => false),
    fetch("/openapi.json").then((r) => (r.ok ? r.json() : null)).catch(() => null),
  ]);
  if (!script) return t("console.browser_phone_missing");
  if (!schema || !schema.paths["/api/v1/agents/{agent_id}/webrtc"]) return t("console.browser_phone_no_endpoint");
  return null;
}

async function showLogin() {
  $("workspace").hidden = true;
  $("login-panel").hidden = false;
  const reason = await browserPhoneAvailable();
  $("browser-choice").disabled = !!reason;
  $("browser-reason").hidden = !reason;
  $("browser-reason").textContent = reason || "";
  $("device-input").focus();
}

async function agentLogin() {
  const error = $("login-error");
  error.hidden = true;
  const kind = document.querySelector("input[name=device-kind]:checked").value;
  let device = $("device-input").value.trim() || undefined;
  if (kind === "browser") {
    try {
      state.phone = await BrowserPhone.start(`/api/v1/agents/${agentId}/webrtc`, (s) => { $("phone-state").textContent = t(`phone.${s}`); },
        (call) => { workspace.phoneRinging(call); renderOffers(); });
      device = state.phone.device;
      sessionStorage.setItem("tpx-device-kind", "browser");
    } catch (err) {
      error.textContent = err.message || String(err);
      error.hidden = false;
      return;
    }
  } else {
    sessionStorage.setItem("tpx-device-kind", "sip");
  }
  const r = await api("POST", `/api/v1/agents/${agentId}/login`, device ? { device } : {});
  if (!r.ok) {
    error.textContent = r.error.message;
    error.hidden = false;
    return;
  }
  showPresence(r.data);
}

// --- the state bar -------------------------------------------------------------------------------------

function showPresence(presence) {
  // An answer can arrive after a newer state from the stream (the login's "ready" after the call's wrap-up):
  // the state that began later wins.
  const current = state.presence;
  if (current && current.since && presence.since && new Date(presence.since) < new Date(current.since)) return;
  state.presence = presence;
  if (presence.state === "logged_out") { showLogin(); return; }
  $("login-panel").hidden = true;
  $("workspace").hidden = false;
  const badge = $("state-badge");
  const label = t(`state.${presence.state}`);
  badge.textContent = presence.pause_reason && presence.state === "paused"
    ? `${label} · ${presence.pause_reason}` : label;
  badge.dataset.state = presence.state;
  $("btn-wrapup-end").hidden = presence.state !== "wrap_up";
  $("btn-ready").disabled = presence.state === "ready";
  $("pause-after").checked = state.pauseAfter;
  tick();
}

function tick() {
  const p = state.presence;
  if (!p || !p.since) return;
  $("state-clock").textContent = fmt.duration((Date.now() - new Date(p.since).getTime()) / 1000);
}
setInterval(tick, 1000);

async function presenceAction(path, body) {
  const r = await api("POST", `/api/v1/agents/${agentId}/${path}`, body);
  if (!r.ok) { toast(r.error.message); return; }
  showPresence(r.data);
}

function bindStateBar() {
  $("btn-ready").addEventListener("click", () => presenceAction("ready"));
  $("btn-pause").addEventListener("click", () => {
    const busy = ["on_call", "busy", "ringing", "wrap_up"].includes(state.presence && state.presence.state);
    const after = $("pause-after").checked && busy;
    presenceAction("pause", { reason: $("pause-reason").value, after_current: after });
    if (after) toast(t("console.pause_scheduled"));
  });
  $("pause-after").addEventListener("change", (e) => {
    state.pauseAfter = e.target.checked;
    sessionStorage.setItem("tpx-pause-after", state.pauseAfter ? "1" : "0");
    if (state.pauseAfter && state.presence && state.presence.state !== "ready" && state.presence.state !== "paused") {
      presenceAction("pause", { reason: $("pause-reason").value, after_current: true });
      toast(t("console.pause_scheduled"));
    }
  });
  $("btn-wrapup-end").addEventListener("click", async () => {
    const r = await api("POST", `/api/v1/agents/${agentId}/wrapup/end`); // the server checks what each call needs
    if (!r.ok) { if (!(await workspace.showWrapupMissing(r.error))) toast(r.error.message); return; }
    showPresence(r.data);
  });
  $("btn-agent-logout").addEventListener("click", async () => {
    const r = await api("POST", `/api/v1/agents/${agentId}/logout`);
    if (!r.ok) { toast(r.error.message); return; }
    if (state.phone) { state.phone.stop(); state.phone = null; }
    showPresence(r.data);
  });
  $("agent-login").addEventListener("click", agentLogin);
}

// --- incoming work -------------------------------------------------------------------------------------

function renderOffers() {
  const box = $("offers");
  box.replaceChildren(...[...state.offers.values()].map((offer) => {
    const isCall = offer.channel === "voice";
    const who = isCall ? (offer.caller_id || t("console.unknown_caller")) : t(`channel.${offer.channel}`);
    const actions = [];
    if (!isCall) {
      actions.push(el("button", { type: "button", class: "accept", onclick: () => acceptChat(offer.interaction_id) },
        t("console.accept")));
    } else if (offer.answer === "console") {
      actions.push(el("button", { type: "button", class: "accept", onclick: () => answerCall(offer.interaction_id) },
        t("console.answer")));
    } else if (state.phone && state.phone.ringing) {
      actions.push(el("button", { type: "button", class: "accept", onclick: () => state.phone.answer() },
        t("console.answer")));
    } else {
      actions.push(el("span", { class: "muted" }, t("console.answer_on_phone")));
    }
    return el("article", { class: "offer card", dataset: { interaction: offer.interaction_id } },
      el("strong", {}, isCall ? t("console.ringing_call") : t("console.chat_offer")),
      el("span", { class: "who" }, who),
      el("span", { class: "muted" }, t("console.in_queue", { queue: workspace.queueName(offer.queue_id) })),
      ...actions);
  }), ...[...state.consults.values()].map(consultCard));
  const first = box.querySelector("button.accept");
  if (first && !box.contains(document.activeElement) && !isTyping()) first.focus();
}

/** A colleague consults this agent about their call: ringing (answer on the browser phone), then talking. */
function consultCard({ data, answered }) {
  const colleague = workspace.agents.get(data.agent_id);
  const name = colleague ? colleague.display_name || colleague.number : `#${data.agent_id}`;
  const actions = [];
  if (answered) {
    if (state.phone && state.phone.call) {
      actions.push(el("button", { type: "button", class: "danger", onclick: () => state.phone.hangup() }, t("call.hangup")));
    }
  } else if (state.phone && state.phone.ringing) {
    actions.push(el("button", { type: "button", class: "accept", onclick: () => state.phone.answer() }, t("console.answer")));
  } else {
    actions.push(el("span", { class: "muted" }, t("console.answer_on_phone")));
  }
  return el("article", { class: "offer consult card", dataset: { interaction: data.interaction_id } },
    el("strong", {}, answered ? t("console.consult_talking", { name }) : t("console.consult_ringing", { name })),
    el("span", { class: "who" }, data.caller_id || t("console.unknown_caller")),
    el("span", { class: "muted" }, t("console.in_queue", { queue: workspace.queueName(data.queue_id) })),
    ...actions);
}

function onConsult(event) {
  const d = event.data || {};
  if (d.consulted_agent_id !== agentId) return;
  if (event.type === "interaction.consult_ringing") state.consults.set(d.interaction_id, { data: d, answered: false });
  if (event.type === "interaction.consult_answered") state.consults.set(d.interaction_id, { data: d, answered: true });
  if (event.type === "interaction.consult_released" && state.consults.delete(d.interaction_id)) toast(t("console.consult_over"));
  renderOffers();
}

function isTyping() {
  const a = document.activeElement;
  return a && (a.tagName === "TEXTAREA" || a.tagName === "INPUT");
}

async function acceptChat(id) {
  const r = await api("POST", `/api/v1/conversations/${id}/accept`);
  if (!r.ok) { toast(r.error.message); return; }
  state.offers.delete(id);
  renderOffers();
  await workspace.open(id, true);
}

async function answerCall(id) {
  let r = await api("POST", `/api/v1/interactions/${id}/answer`);
  // The offer is published just before the call's record is written: a 404 at once means "not yet".
  for (let tries = 0; r.status === 404 && tries < 20 && state.offers.has(id); tries++) {
    await new Promise((done) => setTimeout(done, 250));
    r = await api("POST", `/api/v1/interactions/${id}/answer`);
  }
  if (!r.ok) toast(r.error.message);
}

// --- the live stream -----------------------------------------------------------------------------------

function onSnapshot(snapshot) {
  const me = snapshot.agents.find((a) => a.agent_id === agentId);
  const presence = me || { state: "logged_out" };
  showPresence(presence);
  for (const id of [...state.offers.keys()]) if (!presence.offers || !presence.offers.includes(id)) state.offers.delete(id);
  renderOffers();
  // a colleague's call this agent is consulted about is not theirs to open
  for (const id of [...(presence.interactions || []), ...(presence.wrapups || [])]) if (!state.consults.has(id)) openListed(id);
}

/** Opens the tab of an interaction the agent's presence lists; a campaign call's form comes up with it (the
 * call's interaction.connected came before this page, or while it was loading). */
async function openListed(id) {
  await workspace.open(id, false);
  const entry = workspace.tabs.get(id);
  if (entry && entry.interaction && entry.interaction.channel === "voice") await campaigns.formForCall(id);
}

function onEvent(event) {
  const d = event.data || {};
  if (event.type === "agent.state" && d.agent_id === agentId) {
    showPresence({ ...state.presence, state: d.state, since: event.at, pause_reason: d.pause_reason });
    if (d.state === "paused" && state.pauseAfter) {
      state.pauseAfter = false;
      sessionStorage.setItem("tpx-pause-after", "0");
      $("pause-after").checked = false;
    }
    workspace.recheckCalls(d.state);
    return;
  }
  if (event.type === "interaction.offered" && d.agent_id === agentId) {
    state.offers.set(d.interaction_id, d);
    renderOffers();
    return;
  }
  if (event.type === "interaction.offer_withdrawn" && state.offers.has(d.interaction_id)) {
    state.offers.delete(d.interaction_id);
    renderOffers();
    return;
  }
  if (event.type === "interaction.connected" && d.agent_id === agentId) {
    state.offers.delete(d.interaction_id);
    renderOffers();
  }
  if (["interaction.consult_ringing", "interaction.consult_answered", "interaction.consult_released"].includes(event.type)) {
    onConsult(event);
    return;
  }
  if (event.type === "interaction.transferred" && d.agent_id === agentId && state.consults.delete(d.interaction_id)) {
    renderOffers(); // the consult was completed: the call is this agent's now (its tab opens)
  }
  myDay.onEvent(event);
  campaigns.onEvent(event);
  workspace.onEvent(event);
}

async function main() {
  bindStateBar();
  await loadReference();
  await campaigns.load();
  setInterval(() => campaigns.load(), 30000); // campaigns started or paused meanwhile
  myDay.start();
  const presence = await api("GET", `/api/v1/agents/${agentId}/presence`);
  if (presence.ok) showPresence(presence.data);
  if (presence.ok && presence.data.state !== "logged_out" && sessionStorage.getItem("tpx-device-kind") === "browser") {
    toast(t("phone.relogin_needed"));
  }
  new EventSocket({ onSnapshot, onEvent }).start();
}

main();
