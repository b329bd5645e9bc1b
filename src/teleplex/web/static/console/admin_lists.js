// Administration of a campaign's lists: create a list, upload a CSV file of leads to it, and read the import
// report (how many were imported, updated or already there, and every rejected row with its reason). The file
// goes to the API as it is; the server reads its encoding and delimiter and says what it could not use.

import { PAGE, api, t, fmt, el, toast } from "./common.js";
import { localizeError } from "./errors.js";

/** Uploads the file's bytes as text/csv (the import route takes the file itself, not a form); a refusal is said
 * in the page's language, as api() does. */
async function upload(listId, file, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.append(name, value);
  try {
    const response = await fetch(`/api/v1/campaign-lists/${listId}/import?${query}`, {
      method: "POST", credentials: "same-origin", body: await file.arrayBuffer(),
      headers: { "Content-Type": "text/csv", "X-Requested-With": "teleplex-web" } });
    const data = await response.json().catch(() => null);
    const error = response.ok ? null : (data && data.error) || { message: `HTTP ${response.status}` };
    return { ok: response.ok, data, error: localizeError(error, t, PAGE.language) };
  } catch {
    return { ok: false, data: null, error: { message: t("error.network") } };
  }
}

/** Why a row was left out, in the page's language (by its code); the server's English for a code not known. */
function rejectionText(r) {
  const key = `lists.rejection.${r.code}`;
  const text = t(key, r.params || {});
  return text === key || /\{\w+\}/.test(text) ? r.reason : text;
}

function rejectedTable(rows) {
  if (!rows.length) return el("p", { class: "muted" }, t("lists.no_rejected"));
  return el("table", { class: "grid rejected" },
    el("caption", { class: "sr-only" }, t("lists.rejected")),
    el("thead", {}, el("tr", {}, ...["line", "value", "reason"].map((c) => el("th", { scope: "col" }, t(`lists.${c}`))))),
    el("tbody", {}, ...rows.map((r) => el("tr", { dataset: { line: r.line } },
      el("td", {}, fmt.number(r.line)), el("td", {}, r.value ?? ""), el("td", {}, rejectionText(r))))));
}

function report(data) {
  const figures = ["rows", "added", "updated", "unchanged"].map((k) => [k, data[k]]);
  figures.push(["rejected", data.rejected.length]);
  return el("section", { id: "import-report", "aria-labelledby": "import-report-heading" },
    el("h3", { id: "import-report-heading" }, t("lists.report")),
    el("dl", { class: "report" }, ...figures.flatMap(([k, n]) => [el("dt", {}, t(`lists.${k}`)),
      el("dd", { dataset: { figure: k } }, fmt.number(n))])),
    rejectedTable(data.rejected));
}

/** The lists screen of one campaign, drawn into `body`; `back` returns to the campaigns. */
export async function listsScreen(body, campaign, back) {
  const r = await api("GET", `/api/v1/campaigns/${campaign.id}/lists?limit=500`);
  if (!r.ok) { toast(r.error.message); return; }
  const lists = r.data.items;
  const uploadBox = el("div", { id: "upload-box" });
  const table = lists.length
    ? el("table", { class: "grid lists" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("lists.name")), el("th", { scope: "col" }, t("lists.active")),
        el("th", { scope: "col" }, t("wallboard.actions")))),
      el("tbody", {}, ...lists.map((l) => el("tr", { dataset: { listId: l.id } },
        el("td", {}, l.name), el("td", {}, l.active ? t("common.yes") : t("common.no")),
        el("td", { class: "actions" }, el("button", { type: "button", class: "secondary",
          onclick: () => uploadForm(uploadBox, l) }, t("lists.upload")))))))
    : el("p", { class: "muted" }, t("lists.none"));
  const name = el("input", { id: "list-name", autocomplete: "off", "aria-describedby": "list-name-error" });
  const nameError = el("p", { id: "list-name-error", class: "field-error", hidden: true });
  const create = el("form", { class: "row", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const made = await api("POST", `/api/v1/campaigns/${campaign.id}/lists`, { name: name.value.trim() });
    if (!made.ok) {
      nameError.textContent = made.error.message;
      nameError.hidden = false;
      name.setAttribute("aria-invalid", "true");
      name.focus();
      return;
    }
    toast(t("admin.created"));
    await listsScreen(body, campaign, back);
    uploadForm(document.getElementById("upload-box"), made.data);
  } },
  el("label", { class: "inline", for: "list-name" }, t("lists.name")), name,
  el("button", { type: "submit" }, t("lists.create")), nameError);
  body.replaceChildren(
    el("div", { class: "row" }, el("h2", {}, t("lists.title", { name: campaign.name })), el("span", { class: "spacer" }),
      el("button", { type: "button", class: "secondary", onclick: back }, t("admin.back"))),
    table, create, uploadBox);
}

function uploadForm(box, list) {
  const file = el("input", { id: "lists-file", type: "file", accept: ".csv,.txt,.tsv,text/csv", "aria-describedby": "upload-error" });
  const column = (id, value) => el("input", { id, value, autocomplete: "off" });
  const phone = column("lists-phone", "phone");
  const first = column("lists-first", "");
  const last = column("lists-last", "");
  const error = el("p", { id: "upload-error", class: "field-error", role: "alert", hidden: true });
  const result = el("div", { class: "import-result" });
  const button = el("button", { type: "submit" }, t("lists.upload"));
  const form = el("form", { class: "resource-form upload", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    error.hidden = true;
    result.replaceChildren();
    if (!file.files.length) { error.textContent = t("lists.choose_file"); error.hidden = false; file.focus(); return; }
    button.disabled = true;
    const r = await upload(list.id, file.files[0], { phone_column: phone.value.trim(),
      first_name_column: first.value.trim(), last_name_column: last.value.trim() });
    button.disabled = false;
    if (!r.ok) {
      error.textContent = r.error.message;
      error.hidden = false;
      const rows = (r.error.details && r.error.details.rejected) || [];
      if (rows.length) result.replaceChildren(rejectedTable(rows));
      return;
    }
    result.replaceChildren(report(r.data));
    result.querySelector("h3").tabIndex = -1;
    result.querySelector("h3").focus();
  } },
  el("h3", {}, t("lists.upload_to", { name: list.name })),
  el("div", { class: "field" }, el("label", { for: "lists-file" }, t("lists.file")), file),
  el("div", { class: "field" }, el("label", { for: "lists-phone" }, t("lists.phone_column")), phone),
  el("div", { class: "field" }, el("label", { for: "lists-first" }, t("lists.first_name_column")), first),
  el("div", { class: "field" }, el("label", { for: "lists-last" }, t("lists.last_name_column")), last),
  error, el("div", { class: "row" }, button));
  box.replaceChildren(form, result);
  file.focus();
}
