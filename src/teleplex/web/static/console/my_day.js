// "My day": the agent's own figures since local midnight (GET /agents/{id}/today), refreshed every minute and
// whenever one of their interactions ends. Numbers and durations in the user's locale (common.js fmt).

import { api, t, fmt, el } from "./common.js";

const REFRESH_MS = 60000;

export class MyDay {
  constructor({ agentId, root }) {
    this.agentId = agentId;
    this.root = root;
    this.timer = null;
  }

  start() {
    this.load();
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  /** An interaction of this agent ended or was resolved: its figures change now. */
  onEvent(event) {
    const d = event.data || {};
    if ((event.type === "interaction.ended" || event.type === "interaction.resolved") && d.agent_id === this.agentId) {
      this.load();
    }
  }

  async load() {
    const r = await api("GET", `/api/v1/agents/${this.agentId}/today`);
    if (!r.ok) {
      this.root.replaceChildren(el("p", { class: "muted" }, t("myday.unavailable", { error: r.error.message })));
      return;
    }
    this.render(r.data);
  }

  render(day) {
    const rows = [];
    const row = (key, label, value) => rows.push(el("dt", {}, label), el("dd", { dataset: { figure: key } }, value));
    const channels = Object.entries(day.handled_by_channel);
    if (!channels.length) row("handled", t("myday.handled"), fmt.number(0));
    for (const [channel, count] of channels) {
      const label = channel === "voice" ? t("myday.calls") : t("myday.chats", { channel: t(`channel.${channel}`) });
      row(`handled-${channel}`, label, fmt.number(count));
    }
    const withAverage = (total, average) => `${fmt.duration(total)} (${fmt.duration(average)})`;
    row("talk", t("myday.talk"), withAverage(day.talk_seconds, day.average_talk_seconds));
    row("handle", t("myday.handle"), withAverage(day.handle_seconds, day.average_handle_seconds));
    row("ready", t("myday.ready"), fmt.duration(day.ready_seconds));
    row("pause", t("myday.pause"), fmt.duration(day.pause_seconds));
    for (const p of day.pause_by_reason) {
      row(`pause-${p.reason}`, t("myday.pause_reason", { reason: p.reason || "—" }), fmt.duration(p.seconds));
    }
    row("missed", t("myday.missed"), fmt.number(day.missed_offers));
    this.root.replaceChildren(el("dl", { class: "report my-day" }, ...rows));
  }
}
