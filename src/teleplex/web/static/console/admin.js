// Administration: one generic screen per resource. The list shows the columns admin_resources.py names; the
// create and edit forms are built from the API's own OpenAPI schemas, and the API's validation errors are
// shown next to the field they name. The audit log has its own small view at the end.

import { PAGE, api, t, fmt, el, toast, errorFields } from "./common.js";
import { listsScreen } from "./admin_lists.js";

const body = document.getElementById("admin-body");
const resource = PAGE.resources.find((r) => r.key === PAGE.resource);
let openapi = null;

const known = (key) => t(key) !== key;
const label = (name) => (known(`field.${name}`) ? t(`field.${name}`) : name);
const enumLabel = (value) => (known(`enum.${value}`) ? t(`enum.${value}`) : value);

function resolve(schema) {
  if (!schema) return {};
  if (schema.$ref) {
    const target = resolve(openapi.components.schemas[schema.$ref.split("/").pop()]);
    return schema.default === undefined ? target : { ...target, default: schema.default };
  }
  if (schema.anyOf) {
    const options = schema.anyOf.filter((s) => s.type !== "null");
    const nullable = options.length < schema.anyOf.length;
    if (options.length === 1) return { ...resolve(options[0]), nullable, default: schema.default };
    return { ...schema, nullable, complex: true };
  }
  if (schema.allOf && schema.allOf.length === 1) return { ...resolve(schema.allOf[0]), default: schema.default };
  return schema;
}

const references = new Map(); // resource key -> [{id, label}]
async function referenceOptions(key) {
  if (references.has(key)) return references.get(key);
  const target = PAGE.resources.find((r) => r.key === key);
  const r = target ? await api("GET", `${target.path}?limit=500`) : { ok: false };
  const options = r.ok ? r.data.items.map((x) => ({ id: x.id, label: x[target.label] || x.name || x.username || `#${x.id}` })) : [];
  references.set(key, options);
  return options;
}

/** One form control for a schema property; returns {node, read()} where read() gives the JSON value. */
async function control(name, raw, required, value) {
  const s = resolve(raw);
  const id = `f-${name}`;
  const ref = resource.refs[name] ?? resource.refs[name.split(".").pop()];  // a row's property: its own name
  const describe = { id, name, "aria-describedby": `err-${name}` };
  if (ref && (s.type === "integer")) {
    const options = await referenceOptions(ref);
    const select = el("select", describe, el("option", { value: "" }, "—"),
      ...options.map((o) => el("option", { value: o.id, selected: o.id === value }, o.label)));
    return { node: select, read: () => (select.value ? Number(select.value) : null) };
  }
  if (ref && s.type === "array") {
    const options = await referenceOptions(ref);
    const chosen = new Set(value || []);
    const boxes = options.map((o) => el("label", { class: "choice" }, el("input", { type: "checkbox", value: o.id, checked: chosen.has(o.id) }), o.label));
    const group = el("div", { ...describe, role: "group", class: "checks" }, ...boxes);
    return { node: group, read: () => boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => Number(c.value)) };
  }
  if (s.enum) {
    const select = el("select", describe, required ? null : el("option", { value: "" }, "—"),
      ...s.enum.map((v) => el("option", { value: v, selected: v === (value ?? s.default) }, enumLabel(v))));
    return { node: select, read: () => (select.value === "" ? null : select.value) };
  }
  if (s.type === "array" && s.items && resolve(s.items).enum) {
    const chosen = new Set(value ?? s.default ?? []);
    const boxes = resolve(s.items).enum.map((v) => el("label", { class: "choice" }, el("input", { type: "checkbox", value: v, checked: chosen.has(v) }), enumLabel(v)));
    const group = el("div", { ...describe, role: "group", class: "checks" }, ...boxes);
    // none ticked is a choice when the API's default ticks some (wrapup_requires): send the empty list
    return { node: group, keepEmpty: Boolean(s.default && s.default.length),
      read: () => boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => c.value) };
  }
  const item = s.type === "array" && s.items ? resolve(s.items) : null;
  if (item && item.type === "object" && item.properties) return rowsEditor(name, item, value ?? s.default ?? [], describe);
  if (s.type === "boolean") {
    const box = el("input", { ...describe, type: "checkbox", checked: value ?? s.default ?? false });
    return { node: box, read: () => box.checked };
  }
  if (s.type === "integer" || s.type === "number") {
    const input = el("input", { ...describe, type: "number", step: s.type === "integer" ? "1" : "any", value: value ?? s.default ?? "" });
    return { node: input, read: () => (input.value === "" ? null : Number(input.value)) };
  }
  if (s.type === "string" && !s.complex) {
    const secret = name === "password" || name.endsWith("secret") || name.endsWith("token");
    const input = el("input", { ...describe, type: secret ? "password" : "text", value: value ?? s.default ?? "", autocomplete: secret ? "new-password" : "off" });
    return { node: input, read: () => (input.value === "" ? null : input.value) };
  }
  if (s.type === "array" && s.items && ["string", "integer"].includes(resolve(s.items).type)) {
    const input = el("input", { ...describe, value: (value ?? s.default ?? []).join(", "), placeholder: t("admin.comma_separated") });
    const number = resolve(s.items).type === "integer";
    return { node: input, read: () => input.value.split(",").map((x) => x.trim()).filter(Boolean).map((x) => (number ? Number(x) : x)) };
  }
  const area = el("textarea", { ...describe, rows: 3, class: "json" });
  const initial = value ?? s.default;
  area.value = initial === undefined || initial === null ? "" : JSON.stringify(initial, null, 1);
  return { node: area, read: () => {
    if (!area.value.trim()) return null;
    try { return JSON.parse(area.value); } catch { throw Object.assign(new Error(t("admin.invalid_json")), { field: name }); }
  } };
}

let rowIds = 0;

/** A list of objects (a campaign's form fields, its calling windows) as rows of labelled controls, one per
 * property of the item's schema, that the admin adds, removes and moves up; read() gives the list. */
async function rowsEditor(name, item, initial, describe) {
  const need = new Set(item.required || []);
  const list = el("div", { class: "rows" });
  const rows = [];
  const number = () => rows.forEach((r, i) => {
    r.legend.textContent = t("admin.row", { n: i + 1 });
    r.remove.setAttribute("aria-label", t("admin.remove_row", { n: i + 1 }));
    r.up.setAttribute("aria-label", t("admin.move_up_row", { n: i + 1 }));
    r.up.disabled = i === 0;
  });
  const add = async (value) => {
    const key = `${name}.${++rowIds}`;
    const controls = {};
    const fields = [];
    for (const [prop, raw] of Object.entries(item.properties)) {
      controls[prop] = await control(`${key}.${prop}`, raw, need.has(prop), value ? value[prop] : undefined);
      const inline = controls[prop].node.type === "checkbox";
      fields.push(el("div", { class: `field${inline ? " inline-field" : ""}`, dataset: { prop } },
        el("label", { for: `f-${key}.${prop}` }, label(prop), need.has(prop) ? el("span", { class: "req", "aria-hidden": "true" }, " *") : null),
        controls[prop].node));
    }
    const row = { controls, legend: el("legend"), error: el("p", { class: "field-error", hidden: true }) };
    row.remove = el("button", { type: "button", class: "secondary", onclick: () => {
      rows.splice(rows.indexOf(row), 1); row.node.remove(); number();
    } }, t("admin.remove"));
    row.up = el("button", { type: "button", class: "secondary", onclick: () => {
      const i = rows.indexOf(row);
      if (i > 0) { rows.splice(i, 1); rows.splice(i - 1, 0, row); list.insertBefore(row.node, rows[i].node); number(); }
    } }, "↑");
    row.node = el("fieldset", { class: "row-item" }, row.legend, row.error, ...fields, el("div", { class: "row" }, row.up, row.remove));
    rows.push(row);
    list.append(row.node);
    number();
    return row;
  };
  for (const value of initial) await add(value);
  const more = el("button", { type: "button", class: "secondary", onclick: async () => {
    const row = await add(null);
    const first = row.node.querySelector("input, select, textarea");
    if (first) first.focus();
  } }, t("admin.add_row"));
  const node = el("div", { ...describe, role: "group", class: "rows-editor" }, list, more);
  return {
    node,
    keepEmpty: initial.length > 0,  // removing every row the API gave is a choice: send the empty list
    read: () => rows.map((r) => {
      const out = {};
      for (const [prop, c] of Object.entries(r.controls)) {
        const v = c.read();
        if (v !== null && !(Array.isArray(v) && !v.length && !need.has(prop))) out[prop] = v;
      }
      return out;
    }),
    /** The API named a row's property (`form_fields.1.label`): shown on that row, its control marked. */
    mark: (path, message) => {
      const [index, prop] = path;
      const row = rows[Number(index)];
      if (!row) return false;
      row.error.textContent = prop ? `${label(prop)}: ${message}` : message;
      row.error.hidden = false;
      const c = prop && row.controls[prop];
      if (c) c.node.setAttribute("aria-invalid", "true");
      return true;
    },
  };
}

/** The create (record null) or edit form of the resource. */
async function form(record) {
  const schemaName = record ? resource.update : resource.create;
  const schema = resolve(openapi.components.schemas[schemaName]);
  const required = new Set(schema.required || []);
  const controls = {};
  const rows = [];
  // required fields first (the API's schemas list inherited fields last), then in the schema's order
  const createRequired = new Set(resolve(openapi.components.schemas[resource.create]).required || []);
  const entries = Object.entries(schema.properties || {});
  entries.sort(([a], [b]) => Number(createRequired.has(b)) - Number(createRequired.has(a)));
  for (const [name, raw] of entries) {
    const value = record ? record[name] : undefined;
    if (record && name === "password") { controls[name] = await control(name, raw, false, undefined); }
    else controls[name] = await control(name, raw, required.has(name) && !record, value);
    const c = controls[name];
    const inline = c.node.type === "checkbox";
    rows.push(el("div", { class: `field${inline ? " inline-field" : ""}`, dataset: { field: name } },
      el("label", { for: `f-${name}` }, label(name), required.has(name) && !record ? el("span", { class: "req", "aria-hidden": "true" }, " *") : null),
      c.node, el("p", { class: "field-error", id: `err-${name}`, hidden: true })));
  }
  const general = el("p", { class: "field-error", role: "alert", hidden: true });
  const node = el("form", { class: "resource-form", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    for (const p of node.querySelectorAll(".field-error")) { p.hidden = true; p.textContent = ""; }
    for (const n of node.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    const payload = {};
    try {
      for (const [name, c] of Object.entries(controls)) {
        const v = c.read();
        if (record) {
          if (JSON.stringify(v) !== JSON.stringify(record[name] ?? null) && !(v === null && name === "password")) payload[name] = v;
        } else if (v !== null && !(Array.isArray(v) && !v.length && !required.has(name) && !c.keepEmpty)) payload[name] = v;
      }
    } catch (err) { showErrors({ [err.field]: err.message }, general); return; }
    const r = record
      ? await api("PATCH", `${resource.path}/${record.id}`, payload)
      : await api("POST", resource.path, payload);
    if (!r.ok) {
      showErrors(errorFields(r.error), general, r.error.message);
      for (const d of Array.isArray(r.error.details) ? r.error.details : []) {
        const m = /^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?/.exec(String((d && d.field) || ""));  // form_fields[1].label
        if (m && controls[m[1]] && controls[m[1]].mark) controls[m[1]].mark([m[2], m[3]], d.message || r.error.message);
      }
      return;
    }
    toast(record ? t("admin.saved") : t("admin.created"));
    references.delete(resource.key);
    await list();
  } },
  el("h2", {}, record ? t("admin.edit", { name: record[resource.label] || `#${record.id}` }) : t("admin.new")),
  general, ...rows,
  el("div", { class: "row" }, el("button", { type: "submit" }, record ? t("admin.save") : t("admin.create")),
    el("button", { type: "button", class: "secondary", onclick: () => list() }, t("admin.cancel"))));
  body.replaceChildren(node);
  const first = node.querySelector("input, select, textarea");
  if (first) first.focus();
}

function showErrors(fields, general, fallback) {
  let placed = false;
  for (const [name, message] of Object.entries(fields)) {
    const p = document.getElementById(`err-${name}`);
    if (!p) continue;
    p.textContent = message;
    p.hidden = false;
    const input = document.getElementById(`f-${name}`);
    if (input) input.setAttribute("aria-invalid", "true");
    if (!placed && input) input.focus();
    placed = true;
  }
  if (!placed) {
    general.textContent = fallback || Object.values(fields).join("; ");
    general.hidden = false;
  }
}

function cell(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : enumLabel(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return fmt.dateTime(value);
  return typeof value === "string" ? enumLabel(value) : fmt.number(value, 2);
}

async function list() {
  const r = await api("GET", `${resource.path}?limit=200`);
  if (!r.ok) { body.replaceChildren(el("p", { class: "field-error" }, r.error.message)); return; }
  const items = r.data.items;
  const table = el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ...resource.columns.map((c) => el("th", { scope: "col" }, label(c))), el("th", { scope: "col" }, t("wallboard.actions")))),
    el("tbody", {}, ...items.map((item) => el("tr", { dataset: { id: item.id } },
      ...resource.columns.map((c) => el("td", {}, cell(item[c]))),
      el("td", { class: "actions" },
        resource.update ? el("button", { type: "button", class: "secondary", onclick: async () => {
          const fresh = resource.no_get ? { ok: true, data: item } : await api("GET", `${resource.path}/${item.id}`);
          if (fresh.ok) form(fresh.data); else toast(fresh.error.message);
        } }, t("admin.edit_button")) : null,
        resource.key === "channels" && item.kind === "webchat"
          ? el("button", { type: "button", class: "secondary", onclick: () => snippet(item) }, t("admin.snippet")) : null,
        resource.key === "campaigns"
          ? el("button", { type: "button", class: "secondary", onclick: () => listsScreen(body, item, () => list()) },
            t("lists.button")) : null,
        el("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(t("admin.confirm_delete", { name: item[resource.label] || `#${item.id}` }))) return;
          const d = await api("DELETE", `${resource.path}/${item.id}`);
          if (!d.ok) toast(d.error.message); else { toast(t("admin.deleted")); list(); }
        } }, t("admin.delete")))))));
  body.replaceChildren(
    el("div", { class: "row" }, el("span", { class: "muted" }, t("admin.total", { n: fmt.number(r.data.total) })),
      el("span", { class: "spacer" }), el("button", { type: "button", id: "admin-new", onclick: () => form(null) }, t("admin.new"))),
    items.length ? table : el("p", { class: "muted" }, t("admin.empty")));
}

/** The web chat snippet to paste into the customer's site, with a copy button. */
async function snippet(channel) {
  let r = await api("GET", `/api/v1/channels/${channel.id}/webchat`);
  if (!r.ok && r.status === 404) r = await api("PUT", `/api/v1/channels/${channel.id}/webchat`, {});
  if (!r.ok) { toast(r.error.message); return; }
  const area = el("textarea", { readonly: true, rows: 3, class: "json", "aria-label": t("admin.snippet") });
  area.value = r.data.snippet || "";
  body.replaceChildren(el("h2", {}, t("admin.snippet")), el("p", { class: "muted" }, t("admin.snippet_help")), area,
    el("div", { class: "row" },
      el("button", { type: "button", onclick: async () => {
        try { await navigator.clipboard.writeText(area.value); toast(t("admin.copied")); } catch { area.select(); }
      } }, t("admin.copy")),
      el("button", { type: "button", class: "secondary", onclick: () => list() }, t("admin.back"))));
}

async function auditLog() {
  const filter = el("select", { id: "audit-entity", "aria-label": t("admin.entity_type") }, el("option", { value: "" }, t("admin.all")),
    ...["queue", "agent", "user", "pause_reason", "disposition", "business_hours", "channel", "campaign"].map((v) =>
      el("option", { value: v }, enumLabel(v))));
  const table = el("table", { class: "grid" });
  const load = async () => {
    const q = filter.value ? `&entity_type=${filter.value}` : "";
    const r = await api("GET", `/api/v1/audit-log?limit=100${q}`);
    if (!r.ok) { toast(r.error.message); return; }
    table.replaceChildren(
      el("thead", {}, el("tr", {}, ...["at", "actor", "action", "entity", "change"].map((c) => el("th", { scope: "col" }, t(`audit.${c}`))))),
      el("tbody", {}, ...r.data.items.map((e) => el("tr", {},
        el("td", {}, fmt.dateTime(e.at)), el("td", {}, e.actor_name), el("td", {}, enumLabel(e.action)),
        el("td", {}, `${enumLabel(e.entity_type)} #${e.entity_id ?? ""}`),
        el("td", { class: "change" }, summary(e))))));
  };
  filter.addEventListener("change", load);
  body.replaceChildren(el("div", { class: "row" }, el("label", { class: "inline" }, t("admin.entity_type"), filter)), table);
  await load();
}

function summary(entry) {
  const before = entry.before || {}, after = entry.after || {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => !["updated_at", "created_at"].includes(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return names.slice(0, 6).map((k) => `${label(k)}: ${k in before ? cell(before[k]) + " → " : ""}${cell(after[k])}`).join("; ");
}

async function main() {
  if (PAGE.resource === "audit-log") { await auditLog(); return; }
  openapi = await (await fetch("/openapi.json")).json();
  await list();
}

main();
