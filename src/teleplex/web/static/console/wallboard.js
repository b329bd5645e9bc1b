// The supervisor's wallboard: each queue in scope (waiting, longest wait, service level, answered and
// abandoned, handle time, agents by state) and the agents grid with force pause, log out and monitoring.
// Figures come from /api/v1/live; every event on the stream refreshes them, so the board is never stale.

import { PAGE, api, t, fmt, el, toast, EventSocket } from "./common.js";
import { BrowserPhone } from "./browser_phone.js";

const $ = (id) => document.getElementById(id);
const STATES = ["ready", "ringing", "on_call", "busy", "wrap_up", "paused"];
let live = null;
let receivedAt = Date.now();
const queues = new Map();
const agents = new Map();

async function loadReference() {
  const [q, a, reasons] = await Promise.all([api("GET", "/api/v1/queues?limit=500"), api("GET", "/api/v1/agents?limit=500"),
    api("GET", "/api/v1/pause-reasons?limit=500")]);
  for (const x of q.ok ? q.data.items : []) queues.set(x.id, x);
  for (const x of a.ok ? a.data.items : []) agents.set(x.id, x);
  const select = $("force-reason");
  select.replaceChildren(...(reasons.ok ? reasons.data.items : []).map((r) => el("option", { value: r.name }, r.name)));
  if (!select.options.length) select.append(el("option", { value: "supervisor" }, t("wallboard.forced")));
  $("monitor-device").value = localStorage.getItem("tpx-monitor-device") || "";
  $("monitor-device").addEventListener("change", (e) => localStorage.setItem("tpx-monitor-device", e.target.value.trim()));
}

function show(snapshot) {
  live = snapshot;
  receivedAt = Date.now();
  drawQueues();
  drawAgents();
  $("updated").textContent = t("wallboard.updated", { time: fmt.time(snapshot.at) });
}

function agentsOfQueue(queueId) {
  const members = [...agents.values()].filter((a) => (a.queues || []).some((m) => m.queue_id === queueId)).map((a) => a.id);
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const a of live.agents) if (members.includes(a.agent_id) && a.state in counts) counts[a.state] += 1;
  return counts;
}

function figure(key, value, extra = {}) {
  return el("div", { class: "figure", dataset: { figure: key }, ...extra },
    el("span", { class: "value" }, value), el("span", { class: "label" }, t(`wallboard.${key}`)));
}

function drawQueues() {
  const elapsed = (Date.now() - receivedAt) / 1000;
  $("queues").replaceChildren(...live.queues.map((q) => {
    const counts = agentsOfQueue(q.queue_id);
    const queue = queues.get(q.queue_id);
    const longest = q.waiting ? q.longest_wait_s + elapsed : 0;
    const late = queue && q.waiting && longest > queue.service_level_seconds;
    return el("article", { class: "queue card", dataset: { queueId: q.queue_id } },
      el("h2", {}, queue ? queue.name : `#${q.queue_id}`),
      el("div", { class: "figures" },
        figure("waiting", fmt.number(q.waiting), { class: `figure big${q.waiting ? " alert" : ""}` }),
        figure("longest_wait", fmt.duration(longest), { class: `figure big${late ? " alert" : ""}` }),
        figure("service_level", fmt.percent(q.service_level_today)),
        figure("answered", fmt.number(q.answered_today)),
        figure("abandoned", fmt.number(q.abandoned_today)),
        figure("aht", fmt.duration(q.average_handle_s_today))),
      el("ul", { class: "states plain" }, ...STATES.map((s) => el("li", { dataset: { state: s } },
        el("span", { class: "badge", dataset: { state: s } }, t(`state.${s}`)), " ", fmt.number(counts[s])))));
  }));
}

function drawAgents() {
  const elapsed = (Date.now() - receivedAt) / 1000;
  const body = $("agents").querySelector("tbody");
  if (!live.agents.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("wallboard.no_agents"))));
    return;
  }
  body.replaceChildren(...live.agents.map((a) => {
    const profile = agents.get(a.agent_id) || {};
    const current = (a.interactions || [])[0];
    const act = (path, body) => api("POST", `/api/v1/agents/${a.agent_id}/${path}`, body).then((r) => {
      if (!r.ok) toast(r.error.message);
    });
    const monitor = (mode) => {
      awaited.set(String(current), mode); // its call may ring the browser phone before the answer comes back
      return api("POST", `/api/v1/interactions/${current}/monitor`,
        { mode, device: $("monitor-device").value.trim() || undefined }).then((r) => {
        if (!r.ok) { awaited.delete(String(current)); toast(r.error.message); return; }
        toast(t("wallboard.monitoring", { mode: t(`wallboard.${mode}`) }));
      });
    };
    return el("tr", { dataset: { agentId: a.agent_id } },
      el("th", { scope: "row" }, profile.display_name || profile.number || `#${a.agent_id}`),
      el("td", {}, el("span", { class: "badge", dataset: { state: a.state } }, t(`state.${a.state}`))),
      el("td", { class: "clock" }, fmt.duration(a.time_in_state_s + elapsed)),
      el("td", {}, current ? `#${current}` : "—"),
      el("td", {}, a.pause_reason || ""),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "secondary", disabled: a.state === "paused",
          onclick: () => act("pause", { reason: $("force-reason").value, after_current: false }) }, t("wallboard.force_pause")),
        el("button", { type: "button", class: "secondary", onclick: () => act("logout") }, t("wallboard.log_out")),
        ...["listen", "whisper", "barge"].map((mode) => el("button", { type: "button", class: "secondary",
          disabled: !current, onclick: () => monitor(mode) }, t(`wallboard.${mode}`)))));
  }));
}

// --- the supervisor's own monitoring browser phone (not an agent profile's): rung by listen, whisper, barge ---

let phone = null;
const awaited = new Map(); // interaction id -> mode asked for; its call rings as "Monitor <mode>" <id>

function bindBrowserPhone() {
  const button = $("monitor-phone");
  button.disabled = false; // enabled once it works (the page's HTML has it disabled until then)
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      phone = await BrowserPhone.start("/api/v1/users/me/webrtc",
        (s) => { $("monitor-phone-state").textContent = t(`phone.${s}`); }, monitorCall);
    } catch (err) {
      toast(err.message || String(err));
      button.disabled = false;
      return;
    }
    $("monitor-device").value = phone.device;
    $("monitor-device").readOnly = true;
    button.hidden = true;
  });
}

/** A call on the browser phone: the monitoring asked for is answered at once; anything else waits for Answer. */
function monitorCall(call) {
  const box = $("monitor-call");
  if (!call) { box.hidden = true; box.replaceChildren(); return; }
  const mode = awaited.get(call.from);
  const hangUp = el("button", { type: "button", class: "danger", onclick: () => phone.hangup() }, t("call.hangup"));
  if (mode) {
    awaited.delete(call.from);
    phone.answer();
    box.replaceChildren(el("span", {}, t("wallboard.monitor_call", { mode: t(`wallboard.${mode}`), id: call.from })), hangUp);
  } else {
    const answer = el("button", { type: "button", class: "accept", onclick: () => { phone.answer(); answer.remove(); } },
      t("console.answer"));
    box.replaceChildren(el("span", {}, t("wallboard.call_ringing", { from: call.from })), answer, hangUp);
  }
  box.hidden = false;
}

let pending = null;
/** Refetches the live figures once per burst of events. */
function refresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    const r = await api("GET", "/api/v1/live");
    if (r.ok) show(r.data);
  }, 250);
}

setInterval(() => { if (live) { drawQueues(); updateClocks(); } }, 1000);

function updateClocks() {
  const elapsed = (Date.now() - receivedAt) / 1000;
  for (const row of $("agents").querySelectorAll("tbody tr[data-agent-id]")) {
    const a = live.agents.find((x) => x.agent_id === Number(row.dataset.agentId));
    if (a) row.querySelector(".clock").textContent = fmt.duration(a.time_in_state_s + elapsed);
  }
}

$("large-screen").addEventListener("click", (e) => {
  const on = document.body.classList.toggle("large");
  e.target.setAttribute("aria-pressed", on ? "true" : "false");
  if (on && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
});

bindBrowserPhone();
await loadReference();
new EventSocket({ onSnapshot: (snapshot) => show(snapshot), onEvent: () => refresh() }).start();
