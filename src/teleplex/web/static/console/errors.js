// API errors in the user's language. The API's `message` is English (for people and logs); its `reason`
// (why a service refused), its `code`, and for validation errors each detail's `type` and `ctx` (the limit broken),
// are stable, so the page says them with the catalogue: `error.reason.<reason>` first, then
// `error.code.<code>`, and `error.type.<type>`. Anything the catalogue does not know keeps the
// server's English message: a precise English reason beats a vague translated one. English pages keep the
// server's words as they are.

const simple = (v) => ["string", "number", "boolean"].includes(typeof v);

// Placeholders whose value is one of a fixed list (a state, a dial mode, a channel kind): said with the
// catalogue's word for it, looked up under these prefixes in order; a value none knows stays as it is.
const WORDS = {
  state: ["enum", "outcome", "state", "lead"],
  status: ["enum", "outcome", "state", "lead"],
  dial_mode: ["enum"],
  channel: ["enum"],
  channel_kind: ["enum"],
  kind: ["enum"],
};

/** The placeholders a message may use: the simple values of `details` (or of a detail's `ctx`), a list of
 * simple values joined with commas, `field` as the field's label in the page's language, and the values
 * WORDS lists in the page's language. */
function values(source, t) {
  const out = {};
  if (source && typeof source === "object" && !Array.isArray(source)) {
    for (const [name, value] of Object.entries(source)) {
      if (simple(value)) out[name] = value;
      else if (Array.isArray(value) && value.length && value.every(simple)) out[name] = value.join(", ");
    }
  }
  if (typeof out.field === "string") out.field = fieldLabel(out.field, t);
  for (const [name, prefixes] of Object.entries(WORDS)) {
    if (typeof out[name] !== "string") continue;
    const value = out[name].replace(/ /g, "_");  // "logged out" -> logged_out
    const key = prefixes.map((p) => `${p}.${value}`).find((k) => known(k, t));
    if (key) out[name] = t(key);
  }
  return out;
}

/** A field's label: `overflow.queue_id` as "Overflow (Queue)", `weekly[0].open` as "Weekly hours (Opens)",
 * `credentials.token` as "Credentials (token)" (a key the catalogue has no label for is shown as it is). */
function fieldLabel(field, t) {
  const parts = String(field).split(/[.[\]]/).filter((p) => p && !/^\d+$/.test(p));
  const label = (n) => (known(`field.${n}`, t) ? t(`field.${n}`) : n);
  if (!parts.length) return String(field);
  return parts.length > 1 ? `${label(parts[0])} (${label(parts[parts.length - 1])})` : label(parts[0]);
}

/** Placeholders worked out of details that are not flat: a refused wrap-up's first call and what it lacks. */
const DERIVED = {
  wrapup_incomplete: (details, t) => {
    const first = ((details || {}).interactions || [])[0];
    if (!first || !Array.isArray(first.missing)) return {};
    const what = first.missing.map((m) => t(`console.missing.${m}`) + (m === "form" && (first.fields || []).length
      ? ` (${first.fields.join(", ")})` : ""));
    return { interaction_id: first.interaction_id, what: what.join(", ") };
  },
};

/** Placeholders of a reason's sentence worked out of details that are not flat: a refused start's problems,
 * each said by its `code` (placeholders from its `params`), or in the server's English when the catalogue
 * does not know the code. */
const REASON_DERIVED = {
  campaign_cannot_start: (details, t) => {
    const problems = ((details || {}).problems || []).filter((p) => p && typeof p === "object");
    if (!problems.length) return {};
    return { problems: problems.map((p) => campaignProblem(p, t)).join("; ") };
  },
};

function campaignProblem(problem, t) {
  const key = `error.campaign_problem.${problem.code}`;
  const text = known(key, t) ? filled(key, values(problem.params, t), t) : null;
  return text === null ? String(problem.message) : text;
}

/** The catalogue's sentence for `key` filled from `given`, or null when a placeholder it needs is missing. */
function filled(key, given, t) {
  const needed = [...t(key).matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return needed.every((name) => name in given) ? t(key, given) : null;
}

function known(key, t) { return t(key) !== key; }

/** The catalogue's words for the error's `reason`, or null when it has none or `details` lack a placeholder
 * it needs (a half-filled sentence is worse than the code's). */
function reasonText(error, t) {
  const key = `error.reason.${error.reason}`;
  if (typeof error.reason !== "string" || !known(key, t)) return null;
  const derive = REASON_DERIVED[error.reason];
  return filled(key, { ...values(error.details, t), ...(derive ? derive(error.details, t) : {}) }, t);
}

/** The catalogue's words for the error's `code` (with DERIVED placeholders), or null as for reasonText. */
function codeText(error, t) {
  const key = `error.code.${error.code}`;
  if (typeof error.code !== "string" || !known(key, t)) return null;
  const derive = DERIVED[error.code];
  return filled(key, { ...values(error.details, t), ...(derive ? derive(error.details, t) : {}) }, t);
}

function detail(d, t) {
  if (!d || typeof d !== "object" || !d.type || !known(`error.type.${d.type}`, t)) return d;
  return { ...d, server_message: d.message, message: t(`error.type.${d.type}`, values(d.ctx, t)) };
}

/** The error with `message` (and each detail's `message`) in the page's language; the English ones are kept
 * as `server_message`. */
export function localizeError(error, t, language) {
  if (!error || language === "en") return error;
  const out = { ...error, server_message: error.message };
  if (Array.isArray(error.details)) out.details = error.details.map((d) => detail(d, t));
  const reason = reasonText(error, t);
  const code = reason === null ? codeText(error, t) : null;
  if (reason !== null) {
    out.message = reason;
  } else if (code !== null) {
    out.message = code;
  } else if (Array.isArray(out.details) && out.details[0] && out.details[0].server_message !== undefined) {
    out.message = `${fieldLabel(out.details[0].field, t)}: ${out.details[0].message}`;
  }
  return out;
}
