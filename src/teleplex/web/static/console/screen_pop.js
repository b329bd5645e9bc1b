// The screen-pop: when the agent takes an interaction, its queue's (or campaign's) CRM page, filled with the
// call's data by the server, opens in a new browser tab or in a panel inside the interaction's tab. A new
// tab opens once per interaction (a reload does not open it again); the link stays in the panel.

import { api, t, el, toast } from "./common.js";

const poppedKey = (id) => `tpx-popped:${id}`;

/** Adds the screen-pop to the interaction's panel; `taken` says the agent has just accepted/answered it. */
export async function screenPop(interactionId, panel, taken) {
  const r = await api("GET", `/api/v1/interactions/${interactionId}/screen-pop`);
  if (!r.ok || !r.data.url || !panel.isConnected) return;
  const { url, mode } = r.data;
  const link = el("a", { href: url, target: "_blank", rel: "noopener", class: "screen-pop-link" }, t("console.screen_pop_open"));
  const box = el("section", { class: `screen-pop ${mode}`, "aria-label": t("console.screen_pop") },
    el("h3", {}, t("console.screen_pop"), " ", link));
  if (mode === "embed") {
    box.append(el("iframe", { src: url, title: t("console.screen_pop"), class: "screen-pop-frame",
      referrerpolicy: "no-referrer", sandbox: "allow-scripts allow-forms allow-same-origin allow-popups" }));
  }
  const head = panel.querySelector(".panel-head");
  if (head) head.after(box); else panel.prepend(box);
  if (mode === "tab" && taken && !sessionStorage.getItem(poppedKey(interactionId))) {
    sessionStorage.setItem(poppedKey(interactionId), "1");
    const tab = window.open(url, "_blank"); // not "noopener": that answers null, and a blocked pop-up could not be told
    if (tab) tab.opener = null; else toast(t("console.screen_pop_blocked"));
  }
}

export function forgetScreenPop(interactionId) { sessionStorage.removeItem(poppedKey(interactionId)); }
