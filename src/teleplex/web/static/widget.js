/*
 * Teleplex web chat widget. Embed on any page:
 *   <script src="https://CENTER/widget.js" data-channel="wk_..." async></script>
 * Optional identity verification, computed by the site's backend (the secret never reaches the browser):
 *   data-identifier="customer-42" data-identifier-hash="<hex HMAC-SHA256(widget secret, identifier)>"
 * Language: data-language="es", else the page's <html lang>, else the browser's (English when none is ours).
 * Plain JavaScript, no build step, no cookies: the session token travels in the WebSocket's first frame.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-channel][src*='widget.js']");
  if (!script || window.TeleplexChat) { return; }
  var channel = script.getAttribute("data-channel") || "";
  var center = new URL(script.src, location.href).origin;
  var storeKey = "teleplex-chat:" + channel;
  var identity = {
    identifier: script.getAttribute("data-identifier"),
    identifier_hash: script.getAttribute("data-identifier-hash")
  };

  // --- words: the server writes the catalogue's rows in (messaging/webchat/widget_strings.py) -------------
  var STRINGS = /*teleplex:strings*/{};
  var words = STRINGS[pickLanguage()] || STRINGS.en || {};
  function pickLanguage() {
    var asked = [script.getAttribute("data-language"), document.documentElement.lang]
      .concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < asked.length; i++) {
      var base = String(asked[i] || "").toLowerCase().split("-")[0];
      if (STRINGS[base]) { return base; }
    }
    return "en";
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) { return values[name]; });
  }
  function t(key) { return words[key] || key; }
  // A refusal (REST error or error frame) in the visitor's words: the catalogue's sentence for its `reason`,
  // placeholders from `details`; the server's message when the reason is unknown or a placeholder is missing.
  function errorText(error, fallbackKey) {
    if (!error) { return t(fallbackKey || "widget.unavailable"); }
    var text = typeof error.reason === "string" ? words["error.reason." + error.reason] : null;
    var details = error.details && typeof error.details === "object" ? error.details : {};
    if (text) {
      var needed = text.match(/\{\w+\}/g) || [];
      var complete = needed.every(function (p) {
        var v = details[p.slice(1, -1)];
        return typeof v === "string" || typeof v === "number";
      });
      if (complete) { return fill(text, details); }
    }
    return error.message || t(fallbackKey || "widget.unavailable");
  }
  function refused(error, fallbackKey) { return new Error(errorText(error, fallbackKey)); }

  var CSS = [
    ":host{all:initial}",
    ".tpx{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif;color:#1f2328}",
    ".tpx-launch{border:0;border-radius:24px;padding:12px 18px;background:#0b5fff;color:#fff;font:inherit;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}",
    ".tpx-panel{display:none;flex-direction:column;width:320px;height:440px;background:#fff;border-radius:10px;overflow:hidden;box-shadow:0 4px 24px rgba(0,0,0,.3)}",
    ".tpx.open .tpx-panel{display:flex}.tpx.open .tpx-launch{display:none}",
    ".tpx-head{display:flex;justify-content:space-between;align-items:center;padding:10px 12px;background:#0b5fff;color:#fff;font-weight:600}",
    ".tpx-head button{border:0;background:none;color:#fff;font-size:18px;cursor:pointer}",
    ".tpx-log{flex:1;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:6px;background:#f6f8fa}",
    ".tpx-msg{max-width:80%;padding:6px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".tpx-in{align-self:flex-end;background:#0b5fff;color:#fff}.tpx-out{align-self:flex-start;background:#fff;border:1px solid #d0d7de}",
    ".tpx-seen{align-self:flex-end;font-size:11px;color:#57606a;margin-top:-4px}",
    ".tpx-pending{opacity:.6}",
    ".tpx-note{font-size:12px;color:#57606a;padding:2px 10px;min-height:16px}",
    ".tpx-form,.tpx-compose{display:flex;gap:6px;padding:8px;border-top:1px solid #d0d7de}",
    ".tpx-form{flex-direction:column}",
    ".tpx input,.tpx textarea{font:inherit;padding:6px;border:1px solid #d0d7de;border-radius:6px}",
    ".tpx textarea{flex:1;resize:none;height:36px}",
    ".tpx-compose button,.tpx-form button{border:0;border-radius:6px;background:#0b5fff;color:#fff;padding:6px 12px;font:inherit;cursor:pointer}",
    ".tpx-attach{border:1px solid #d0d7de!important;background:#fff!important;color:#1f2328!important;padding:6px 8px!important}",
    ".tpx-media img{display:block;max-width:100%;max-height:200px;border-radius:6px}",
    ".tpx-media a{color:inherit;text-decoration:underline;cursor:pointer}",
    ".tpx-hidden{display:none!important}"
  ].join("");

  // --- state -------------------------------------------------------------------------------------------
  var stored = load();
  var token = null;
  var prechat = false;
  var ws = null;
  var ready = false;
  var held = false;          // test hook: stay disconnected until reconnect()
  var retries = 0;
  var lastId = null;         // last stream event shown; null until the first connection of this page
  var shown = {};            // message id -> element: each message appears once
  var pending = {};          // client id -> {text, el}: sent, not yet seen in the stream
  var unread = [];           // agent messages to report as read when the panel is open
  var typingTimer = null, agentTypingTimer = null, reconnectTimer = null;
  var closedFor = null;      // the error frame the server sent before closing the socket, if any

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(stored)); } catch (e) { /* storage blocked: session only */ }
  }

  // --- DOM ---------------------------------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-teleplex-chat", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }
  var style = el("style"); style.textContent = CSS;
  var box = el("div", "tpx");
  var launch = el("button", "tpx-launch", t("widget.launch")); launch.type = "button";
  var panel = el("div", "tpx-panel");
  var head = el("div", "tpx-head");
  var title = el("span", "tpx-title", t("widget.title"));
  var closeBtn = el("button", "tpx-close", "\u00d7"); closeBtn.type = "button"; closeBtn.setAttribute("aria-label", t("widget.close"));
  var log = el("div", "tpx-log"); log.setAttribute("role", "log"); log.setAttribute("aria-live", "polite");
  var note = el("div", "tpx-note");
  var form = el("form", "tpx-form tpx-hidden");
  var nameIn = el("input"); nameIn.name = "name"; nameIn.placeholder = t("widget.name"); nameIn.required = true; nameIn.maxLength = 100;
  var emailIn = el("input"); emailIn.name = "email"; emailIn.type = "email"; emailIn.placeholder = t("widget.email"); emailIn.maxLength = 254;
  var startBtn = el("button", "tpx-start", t("widget.start")); startBtn.type = "submit";
  var compose = el("form", "tpx-compose tpx-hidden");
  var input = el("textarea"); input.name = "text"; input.placeholder = t("widget.write"); input.maxLength = 4000;
  var sendBtn = el("button", "tpx-send", t("widget.send")); sendBtn.type = "submit";
  var attachBtn = el("button", "tpx-attach", "\ud83d\udcce"); attachBtn.type = "button";
  attachBtn.setAttribute("aria-label", t("widget.attach")); attachBtn.title = t("widget.attach");
  var fileIn = el("input", "tpx-hidden"); fileIn.type = "file"; fileIn.name = "file";
  head.appendChild(title); head.appendChild(closeBtn);
  form.appendChild(nameIn); form.appendChild(emailIn); form.appendChild(startBtn);
  compose.appendChild(attachBtn); compose.appendChild(fileIn); compose.appendChild(input); compose.appendChild(sendBtn);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(note); panel.appendChild(form); panel.appendChild(compose);
  box.appendChild(launch); box.appendChild(panel);
  root.appendChild(style); root.appendChild(box);

  function say(text) { note.textContent = text || ""; }
  function isOpen() { return box.className.indexOf("open") >= 0; }

  // --- session -----------------------------------------------------------------------------------------
  function startSession(profile) {
    var body = {};
    if (identity.identifier && identity.identifier_hash) {
      body.identifier = identity.identifier; body.identifier_hash = identity.identifier_hash;
    } else if (stored.visitor_id && stored.visitor_key) {
      body.visitor_id = stored.visitor_id; body.visitor_key = stored.visitor_key;
    }
    if (profile) { if (profile.name) { body.name = profile.name; } if (profile.email) { body.email = profile.email; } }
    return fetch(center + "/webchat/v1/widgets/" + encodeURIComponent(channel) + "/session", {
      method: "POST", mode: "cors", credentials: "omit", cache: "no-store",
      headers: { "content-type": "application/json" }, body: JSON.stringify(body)
    }).then(answer, function () { throw refused(null, "widget.unavailable"); }).then(function (res) {
      if (res.status === 403 && res.doc.error && res.doc.error.code === "visitor_key_invalid") {
        stored = {}; save();
        return startSession(profile);
      }
      if (res.status !== 200) { throw refused(res.doc.error, "widget.unavailable"); }
      var s = res.doc;
      token = s.token; prechat = s.prechat; title.textContent = s.title;
      stored.visitor_id = s.visitor_id;
      if (s.visitor_key) { stored.visitor_key = s.visitor_key; }
      save();
      return s;
    });
  }

  // A JSON answer as {status, doc}; a body that is not JSON (a proxy's error page) counts as no error body.
  function answer(r) {
    return r.json().then(function (doc) { return { status: r.status, doc: doc || {} }; },
                         function () { return { status: r.status, doc: {} }; });
  }

  function begin() {
    say(t("widget.connecting"));
    startSession(null).then(function (s) {
      if (s.prechat && !s.name) { showForm(); say(""); } else { showCompose(); connect(); }
    }).catch(function (e) { say(e.message); });
  }
  function showForm() { form.classList.remove("tpx-hidden"); compose.classList.add("tpx-hidden"); nameIn.focus(); }
  function showCompose() { form.classList.add("tpx-hidden"); compose.classList.remove("tpx-hidden"); }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    startBtn.disabled = true;
    startSession({ name: nameIn.value.trim(), email: emailIn.value.trim() }).then(function () {
      showCompose(); connect();
    }).catch(function (err) { say(err.message); }).then(function () { startBtn.disabled = false; });
  });

  // --- the WebSocket -------------------------------------------------------------------------------------
  function connect() {
    if (held || (ws && ws.readyState <= 1)) { return; }
    clearTimeout(reconnectTimer);
    var socket = new WebSocket(center.replace(/^http/, "ws") + "/webchat/v1/ws");
    ws = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "auth", token: token, after: lastId === null ? 0 : lastId }));
    };
    socket.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function (ev) {
      if (ws === socket) { ws = null; }
      ready = false;
      var why = closedFor; closedFor = null;
      if (held) { say(t("widget.disconnected")); return; }
      if (ev.code === 4403 || ev.code === 4503) {
        say(errorText(why || (ev.reason ? { message: ev.reason } : null), "widget.unavailable"));
        return;
      }
      var delay = Math.min(15000, 500 * Math.pow(2, retries++));
      say(t("widget.reconnecting"));
      reconnectTimer = setTimeout(function () {
        if (ev.code === 4401) {  // the token expired: a new session, then the socket again
          startSession(null).then(connect).catch(function (e) { say(e.message); scheduleRetry(); });
        } else {
          connect();
        }
      }, delay);
    };
  }
  function scheduleRetry() { reconnectTimer = setTimeout(connect, 15000); }

  function handle(frame) {
    if (frame.type === "ready") {
      ready = true; retries = 0; say("");
      if (lastId === null) { lastId = 0; }
      Object.keys(pending).forEach(function (cid) { transmit(cid); });  // unconfirmed sends: the server dedupes
    } else if (frame.type === "message") {
      if (typeof frame.id === "number" && frame.id > lastId) { lastId = frame.id; }
      show(frame.message, frame.id);
    } else if (frame.type === "seen") {  // the agent has read these messages of ours
      if (typeof frame.id === "number" && frame.id > lastId) { lastId = frame.id; }
      markSeen(frame.message_ids || []);
    } else if (frame.type === "typing") {
      clearTimeout(agentTypingTimer);
      say(frame.typing ? t("widget.agent_typing") : "");
      if (frame.typing) { agentTypingTimer = setTimeout(function () { say(""); }, 10000); }
    } else if (frame.type === "error") {
      if (window.console) { console.warn("teleplex chat:", frame.code, frame.reason, frame.message); }
      if (!ready) { closedFor = frame; return; }  // before "ready": the socket closes next, onclose tells
      if (frame.client_id && pending[frame.client_id]) {  // that message was refused: it will not be resent
        var refusedSend = pending[frame.client_id];
        delete pending[frame.client_id];
        if (refusedSend.el.parentNode) { refusedSend.el.parentNode.removeChild(refusedSend.el); }
        if (!input.value && refusedSend.text) { input.value = refusedSend.text; }  // to mend and send again
      }
      say(errorText(frame));
    }
  }

  // "Seen" stands under the latest of our messages the agent has read (as messengers do), not under each.
  function markSeen(ids) {
    var latest = null;
    ids.forEach(function (id) {
      var node = shown[id];
      if (node && node.classList.contains("tpx-in")) { node.setAttribute("data-status", "read"); latest = node; }
    });
    if (!latest) { return; }
    var old = log.querySelector(".tpx-seen");
    var nodes = log.querySelectorAll(".tpx-in[data-status=read]");
    var last = nodes[nodes.length - 1];
    if (old && old.previousSibling === last) { return; }
    if (old) { old.parentNode.removeChild(old); }
    var label = el("div", "tpx-seen", t("widget.seen"));
    last.parentNode.insertBefore(label, last.nextSibling);
  }

  function show(m, eventId) {
    var mine = m.direction === "in";
    var node = shown[m.id];
    if (node) { return; }
    if (mine && m.client_id && pending[m.client_id]) {
      node = pending[m.client_id].el;
      delete pending[m.client_id];
      node.classList.remove("tpx-pending");
    } else {
      node = el("div", "tpx-msg " + (mine ? "tpx-in" : "tpx-out"), m.media ? "" : (m.text || ""));
      log.appendChild(node);
    }
    if (m.media && !node.querySelector(".tpx-media")) { node.textContent = ""; showMedia(node, m); }
    node.setAttribute("data-message-id", String(m.id));
    node.setAttribute("data-event-id", String(eventId));
    shown[m.id] = node;
    if (!mine) { say(""); unread.push(m.id); reportRead(); }
    log.scrollTop = log.scrollHeight;
  }

  // --- attachments: uploaded over HTTP with the session token, downloaded the same way -------------------
  function attachmentUrl(messageId) {
    return center + "/webchat/v1/widgets/" + encodeURIComponent(channel) + "/attachments" +
      (messageId ? "/" + messageId : "");
  }
  function authorised(url, options, retried) {
    options = options || {};
    options.mode = "cors"; options.credentials = "omit"; options.cache = "no-store";
    options.headers = options.headers || {};
    options.headers.authorization = "Bearer " + token;
    return fetch(url, options).then(function (r) {
      if (r.status === 401 && !retried) {  // the token expired: a new session, then once more
        return startSession(null).then(function () { return authorised(url, options, true); });
      }
      return r;
    });
  }
  function download(messageId) {
    return authorised(attachmentUrl(messageId)).then(function (r) {
      if (!r.ok) { throw new Error(t("widget.file_not_loaded")); }
      return r.blob();
    }).then(function (blob) { return URL.createObjectURL(blob); });
  }
  function showMedia(node, m) {
    var box = el("div", "tpx-media");
    box.setAttribute("data-media-kind", m.media.kind || "document");
    var name = m.media.filename || t("widget.attachment");
    if (m.media.kind === "image") {
      var img = el("img"); img.alt = name;
      download(m.id).then(function (url) { img.src = url; }).catch(function (e) { img.alt = e.message; });
      box.appendChild(img);
    } else {
      var link = el("a", "tpx-file", name); link.href = "#"; link.setAttribute("download", name);
      link.addEventListener("click", function (e) {
        if (link.getAttribute("data-ready")) { return; }
        e.preventDefault();
        download(m.id).then(function (url) {
          link.href = url; link.setAttribute("data-ready", "1"); link.click();
        }).catch(function (err) { say(err.message); });
      });
      box.appendChild(link);
    }
    node.appendChild(box);
    if (m.text) { node.appendChild(el("div", "tpx-caption", m.text)); }
  }
  function upload(file) {
    if (!file || !token) { return; }
    var cid = newClientId();
    var node = el("div", "tpx-msg tpx-in tpx-pending", "\ud83d\udcce " + file.name);
    node.setAttribute("data-client-id", cid);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    pending[cid] = { file: true, el: node };
    var url = attachmentUrl(null) + "?client_id=" + cid + "&filename=" + encodeURIComponent(file.name);
    authorised(url, { method: "POST", headers: { "content-type": file.type || "application/octet-stream" }, body: file })
      .then(answer, function () { throw refused(null, "widget.file_not_sent"); })
      .then(function (res) {
        if (res.status !== 200 && res.status !== 201) { throw refused(res.doc.error, "widget.file_not_sent"); }
      }).catch(function (e) {
        delete pending[cid];
        if (node.parentNode) { node.parentNode.removeChild(node); }
        say(e.message);
      });
  }
  attachBtn.addEventListener("click", function () { fileIn.click(); });
  fileIn.addEventListener("change", function () {
    var file = fileIn.files && fileIn.files[0];
    fileIn.value = "";
    upload(file);
  });

  function reportRead() {
    if (!isOpen() || !ready || document.visibilityState === "hidden") { return; }
    while (unread.length) { ws.send(JSON.stringify({ type: "read", message_id: unread.shift() })); }
  }

  function newClientId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "c" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function transmit(cid) {
    if (pending[cid].file) { return; }  // files go over HTTP, acknowledged there
    if (ready && ws) { ws.send(JSON.stringify({ type: "message", client_id: cid, text: pending[cid].text })); }
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) { return; }
    var cid = newClientId();
    var node = el("div", "tpx-msg tpx-in tpx-pending", text);
    node.setAttribute("data-client-id", cid);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    pending[cid] = { text: text, el: node };
    transmit(cid);
    typing(false);
    typingSent = 0; // the next keystroke starts a new message: say so at once
  }

  function typing(on) {
    clearTimeout(typingTimer);
    if (ready && ws) { ws.send(JSON.stringify({ type: "typing", typing: on })); }
    if (on) { typingTimer = setTimeout(function () { typing(false); }, 4000); }
  }

  compose.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); input.value = ""; });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(input.value); input.value = ""; }
  });
  var typingSent = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - typingSent > 3000) { typingSent = now; typing(true); }
  });

  function open() {
    box.classList.add("open");
    if (!token) { begin(); } else { reportRead(); }
  }
  function close() { box.classList.remove("open"); }
  launch.addEventListener("click", open);
  closeBtn.addEventListener("click", close);
  document.addEventListener("visibilitychange", reportRead);

  function mount() { document.body.appendChild(host); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }

  window.TeleplexChat = {
    open: open, close: close, send: send, attach: upload,
    // For tests: drop the connection and stay offline until reconnect() (what a flaky network does).
    _test: {
      drop: function () { held = true; if (ws) { ws.close(); } },
      reconnect: function () { held = false; retries = 0; connect(); },
      state: function () { return { ready: ready, lastId: lastId, pending: Object.keys(pending).length }; }
    }
  };
})();
