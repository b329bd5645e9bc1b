// The supervisor's campaign monitor: every campaign in their scope with its state, progress, attempts by outcome,
// abandonment over 24 hours and 30 days against its target (flagged above it), the dialer's live figures, and
// Start / Pause. The figures are live: each `campaign.progress` event on the page's one event socket carries
// a campaign's figures (the body of GET /campaigns/{id}/progress); a (re)connection's snapshot and a slow
// resync reload them all, as a safety net. A dropped connection shows the common banner, and the figures are
// marked as not current until it heals. Each card is built once and updated in place, so keyboard focus stays
// where it is, and a failed refresh says so instead of leaving stale figures unexplained.

import { api, t, fmt, el, EventSocket } from "./common.js";

const $ = (id) => document.getElementById(id);
const RESYNC_MS = window.tpxMonitorResyncMs || 60000; // the safety net only (tests lengthen it to prove that)
const cards = new Map(); // campaign id -> {node, parts}

const percent = (ratio) => (ratio === null || ratio === undefined ? "—" : `${fmt.number(ratio * 100, 1)} %`);

function figure(key) {
  const value = el("span", { class: "value" }, "—");
  const note = el("span", { class: "label note" });
  const node = el("div", { class: "figure", dataset: { figure: key } }, value, el("span", { class: "label" }, t(`monitor.${key}`)), note);
  return { node, value, note };
}

function card(campaign) {
  const parts = {
    state: el("span", { class: "badge" }),
    mode: el("span", { class: "muted" }),
    figures: Object.fromEntries(["leads", "done", "remaining", "dialable_now", "waiting_retry", "attempts",
      "abandon_24h", "abandon_30d"].map((k) => [k, figure(k)])),
    outcomes: el("ul", { class: "plain outcomes" }),
    live: el("ul", { class: "plain live" }),
    error: el("p", { class: "field-error", role: "alert", hidden: true }),
  };
  parts.start = el("button", { type: "button", class: "start", onclick: () => move(campaign.id, "start", parts) }, t("monitor.start"));
  parts.pause = el("button", { type: "button", class: "pause secondary", onclick: () => move(campaign.id, "pause", parts) }, t("monitor.pause"));
  const headingId = `campaign-${campaign.id}-name`;
  parts.name = el("h2", { id: headingId });
  const node = el("article", { class: "campaign card", dataset: { campaignId: campaign.id }, "aria-labelledby": headingId },
    parts.name, el("p", {}, parts.state, " ", parts.mode),
    el("div", { class: "figures" }, ...Object.values(parts.figures).map((f) => f.node)),
    el("h3", {}, t("monitor.by_outcome")), parts.outcomes,
    el("h3", {}, t("monitor.live")), parts.live,
    el("div", { class: "row" }, parts.start, parts.pause), parts.error);
  return { node, parts };
}

async function move(id, action, parts) {
  parts.error.hidden = true;
  const r = await api("POST", `/api/v1/campaigns/${id}/${action}`);
  if (!r.ok) { parts.error.textContent = r.error.message; parts.error.hidden = false; return; }
  await refresh();
}

function update(campaign, progress, parts) {
  parts.name.textContent = campaign.name;
  parts.state.textContent = t(`enum.${campaign.state}`);
  parts.state.dataset.state = campaign.state;
  parts.mode.textContent = t("campaign.mode", { mode: t(`enum.${campaign.dial_mode}`) });
  parts.start.disabled = !["draft", "paused"].includes(campaign.state);
  parts.pause.disabled = campaign.state !== "running";
  if (!progress) return;
  const s = progress.by_status || {};
  const f = parts.figures;
  f.leads.value.textContent = fmt.number(progress.leads_total);
  f.done.value.textContent = fmt.number((s.done || 0) + (s.exhausted || 0));
  f.remaining.value.textContent = fmt.number((s.pending || 0) + (s.dialing || 0));
  f.dialable_now.value.textContent = fmt.number(progress.dialable_now);
  f.waiting_retry.value.textContent = fmt.number(progress.waiting_retry);
  f.attempts.value.textContent = fmt.number(progress.attempts);
  const target = campaign.target_abandon_percent / 100;
  for (const [key, rate] of [["abandon_24h", progress.abandon_rate_24h], ["abandon_30d", progress.abandon_rate_30d]]) {
    const above = rate !== null && rate !== undefined && rate > target;
    f[key].value.textContent = percent(rate);
    f[key].note.textContent = above ? `${t("monitor.target", { target: percent(target) })} · ${t("monitor.above_target")}`
      : t("monitor.target", { target: percent(target) });
    f[key].node.classList.toggle("alert", above);
  }
  const outcomes = Object.entries(progress.attempts_by_outcome || {}).sort((a, b) => b[1] - a[1]);
  parts.outcomes.replaceChildren(...(outcomes.length
    ? outcomes.map(([o, n]) => el("li", { dataset: { outcome: o } }, el("span", { class: "tag" }, t(`attempt.${o}`)), " ", fmt.number(n)))
    : [el("li", { class: "muted" }, t("monitor.no_attempts"))]));
  const live = progress.live;
  parts.live.replaceChildren(...(live
    ? ["calls_ringing", "answered_waiting", "channels_in_use"].map((k) => el("li", { dataset: { live: k } },
      t(`monitor.${k}`), ": ", fmt.number(live[k])))
    : [el("li", { class: "muted" }, t("monitor.not_dialing"))]));
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const list = await api("GET", "/api/v1/campaigns?limit=200&order=name");
    if (!list.ok) { $("monitor-stale").hidden = false; return; }
    const campaigns = list.data.items;
    const progress = await Promise.all(campaigns.map((c) => api("GET", `/api/v1/campaigns/${c.id}/progress`)));
    const failed = progress.some((r) => !r.ok && r.status !== 404);
    const box = $("campaign-cards");
    for (const id of [...cards.keys()]) {
      if (!campaigns.some((c) => c.id === id)) { cards.get(id).node.remove(); cards.delete(id); }
    }
    campaigns.forEach((c, i) => {
      if (!cards.has(c.id)) { const made = card(c); cards.set(c.id, made); box.append(made.node); }
      cards.get(c.id).campaign = c;
      update(c, progress[i].ok ? progress[i].data : null, cards.get(c.id).parts);
    });
    $("monitor-none").hidden = campaigns.length > 0;
    $("monitor-stale").hidden = !failed;
    $("updated").textContent = t("wallboard.updated", { time: fmt.time(new Date().toISOString()) });
  } finally {
    busy = false;
  }
}

/** One campaign's figures from the stream; a campaign not on screen yet (created meanwhile) reloads the list. */
function onEvent(event) {
  if (event.type !== "campaign.progress") return;
  const progress = event.data || {};
  const shown = cards.get(progress.campaign_id);
  if (!shown) { refresh(); return; }
  shown.campaign = { ...shown.campaign, state: progress.state };
  update(shown.campaign, progress, shown.parts);
  $("updated").textContent = t("wallboard.updated", { time: fmt.time(progress.at) });
}

await refresh();
new EventSocket({ onSnapshot: () => refresh(), onEvent }).start();
setInterval(refresh, RESYNC_MS);
