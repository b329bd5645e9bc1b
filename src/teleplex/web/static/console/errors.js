// API errors in the user's language. The API's `message` is English (for people and logs); its `reason`
// (why a service refused), its `code`, and for validation errors each detail's `type` and `ctx` (the limit broken),
// are stable, so the page says them with the catalogue: `error.reason.<reason>` first, then
// `error.code.<code>`, and `error.type.<type>`. Anything the catalogue does not know keeps the
// server's English message: a precise English reason beats a vague translated one. English pages keep the
// server's words as they are.

const simple = (v) => ["string", "number", "boolean"].includes(typeof v);

/** The placeholders a message may use: the simple values of `details` (or of a detail's `ctx`), a list of
 * simple values joined with commas, and `field` as the field's label in the page's language. */
function values(source, t) {
  const out = {};
  if (source && typeof source === "object" && !Array.isArray(source)) {
    for (const [name, value] of Object.entries(source)) {
      if (simple(value)) out[name] = value;
      else if (Array.isArray(value) && value.length && value.every(simple)) out[name] = value.join(", ");
    }
  }
  if (typeof out.field === "string") out.field = fieldLabel(out.field, t);
  return out;
}

function fieldLabel(field, t) {
  const name = String(field).split(/[.[]/)[0];
  const key = `field.${name}`;
  return t(key) !== key ? t(key) : name;
}

function known(key, t) { return t(key) !== key; }

/** The catalogue's words for the error's `reason`, or null when it has none or `details` lack a placeholder
 * it needs (a half-filled sentence is worse than the code's). */
function reasonText(error, t) {
  const key = `error.reason.${error.reason}`;
  if (typeof error.reason !== "string" || !known(key, t)) return null;
  const given = values(error.details, t);
  const needed = [...t(key).matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return needed.every((name) => name in given) ? t(key, given) : null;
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
  if (reason !== null) {
    out.message = reason;
  } else if (known(`error.code.${error.code}`, t)) {
    out.message = t(`error.code.${error.code}`, values(error.details, t));
  } else if (Array.isArray(out.details) && out.details[0] && out.details[0].server_message !== undefined) {
    out.message = `${fieldLabel(out.details[0].field, t)}: ${out.details[0].message}`;
  }
  return out;
}
