// What the agent types is kept in sessionStorage as they type, so that switching tabs or reloading the page
// never loses it: an interaction's reply, notes and wrap-up, a previewed lead's form answers, a campaign call's
// form answers. Each draft belongs to an owner (an interaction's id, `lead-<id>` for a lead card,
// `attempt-<id>` for a campaign call's form) and is dropped with it.

/** The sessionStorage key of one field's draft. */
export const draftKey = (owner, field) => `tpx-draft:${owner}:${field}`;

/** Fills `control` (text, select, checkbox) with its draft, and keeps the draft as the agent types. */
export function keepDraft(control, owner, field) {
  const key = draftKey(owner, field);
  const checkbox = control.type === "checkbox";
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    if (checkbox) control.checked = saved === "1";
    else control.value = saved;
  }
  control.dataset.draft = field;
  const keep = () => {
    const value = checkbox ? (control.checked ? "1" : "") : control.value;
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  };
  // both: some controls announce a choice only by "change" (a select picked by keyboard in older browsers)
  control.addEventListener("input", keep);
  control.addEventListener("change", keep);
  return control;
}

/** Empties a control kept by `keepDraft` once what it held is sent. */
export function clearDraft(control, owner) {
  control.value = "";
  sessionStorage.removeItem(draftKey(owner, control.dataset.draft));
}

/** Drops every draft of an owner: its interaction closed, its lead dialed and answered, or skipped. */
export function forgetDrafts(owner) {
  const prefix = draftKey(owner, "");
  for (const key of Object.keys(sessionStorage)) if (key.startsWith(prefix)) sessionStorage.removeItem(key);
}

/** Gives every draft of `from` to `to`: the answers prepared on a lead's card become its call's when dialed. */
export function moveDrafts(from, to) {
  const prefix = draftKey(from, "");
  for (const key of Object.keys(sessionStorage)) {
    if (!key.startsWith(prefix)) continue;
    sessionStorage.setItem(draftKey(to, key.slice(prefix.length)), sessionStorage.getItem(key));
    sessionStorage.removeItem(key);
  }
}
