/* Teleplex browser phone: registers to Asterisk over SIP/WebSocket with JsSIP and answers the calls Teleplex
 * routes to the agent.
 *
 *   const creds = await (await fetch(`/api/v1/agents/${id}/webrtc`, {method: "POST", ...})).json();
 *   const phone = new TeleplexPhone({...creds, display_name: "Ana"});
 *   phone.on("state", ({state, reason}) => ...);   // registering | registered | unregistered | failed
 *   phone.on("incoming", (call) => call.answer());  // call: from, from_name, answer(), hangup(), mute(), unmute(), dtmf(d)
 *   phone.on("ended", ({call, cause}) => ...);
 *   await phone.start();                             // resolves once registered, rejects with the reason
 *   phone.stop();
 *
 * JsSIP is loaded from vendor/jssip.min.js next to this file (built by `make setup` from the npm package) unless
 * the page already loaded it.
 */
(function () {
  "use strict";

  const HERE = document.currentScript ? document.currentScript.src : "";
  const LIBRARY_URL = HERE ? new URL("vendor/jssip.min.js", HERE).href : "/static/vendor/jssip.min.js";
  const MISSING = "the browser phone's library is missing (" + LIBRARY_URL + " did not load): " +
    "run `make setup` on the server, which installs JsSIP with npm and bundles it there";
  const REREGISTER_TRIES = 5;
  const REREGISTER_DELAY_MS = 3000;
  let library = null;

  /** JsSIP, loading it once; rejects with a clear message when the bundle is not there. */
  function loadJsSIP() {
    if (window.JsSIP) return Promise.resolve(window.JsSIP);
    if (!library) {
      library = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = LIBRARY_URL;
        script.onload = () => (window.JsSIP ? resolve(window.JsSIP) : reject(new Error(MISSING)));
        script.onerror = () => reject(new Error(MISSING));
        document.head.appendChild(script);
      });
      library.catch(() => { library = null; });  // a later start() tries again
    }
    return library;
  }

  /** One call offered to (or taken on) the browser phone. */
  class TeleplexCall {
    constructor(session) {
      this.session = session;
      const identity = session.remote_identity;
      this.from = identity.uri.user;
      this.from_name = identity.display_name || "";
      this.audio = new Audio();
      this.audio.autoplay = true;
      session.on("peerconnection", (e) => this._hear(e.peerconnection));
    }

    _hear(pc) {
      pc.addEventListener("track", (e) => { this.audio.srcObject = e.streams[0] || new MediaStream([e.track]); });
    }

    answer() {
      this.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
    }

    hangup() {
      if (!this.session.isEnded()) this.session.terminate();
    }

    mute() { this.session.mute({ audio: true }); }

    unmute() { this.session.unmute({ audio: true }); }

    /** Touch tones in the media (RFC 4733), as a desk phone sends them. */
    dtmf(digits) { this.session.sendDTMF(String(digits), { transportType: "RFC2833" }); }
  }

  class TeleplexPhone {
    constructor({ ws_url, sip_uri, username, password, display_name }) {
      if (!ws_url || !sip_uri || !username || !password) {
        throw new Error("TeleplexPhone needs ws_url, sip_uri, username and password (from POST /api/v1/agents/{id}/webrtc)");
      }
      this.options = { ws_url, sip_uri, username, password, display_name: display_name || "" };
      this.handlers = {};
      this.ua = null;
      this.state = "unregistered";
    }

    on(name, fn) {
      (this.handlers[name] = this.handlers[name] || []).push(fn);
      return this;
    }

    _emit(name, payload) {
      for (const fn of this.handlers[name] || []) {
        try { fn(payload); } catch (err) { console.error("TeleplexPhone '" + name + "' handler failed", err); }
      }
    }

    _state(state, reason) {
      this.state = state;
      this._emit("state", { state, reason: reason || "" });
    }

    /** Connect and register; resolves when registered, rejects (and emits 'failed') with the reason. */
    async start() {
      let JsSIP;
      try {
        JsSIP = await loadJsSIP();
      } catch (err) {
        this._state("failed", err.message);
        throw err;
      }
      if (this.ua) this.stop();
      JsSIP.debug.disable("JsSIP:*");
      const o = this.options;
      const ua = new JsSIP.UA({
        sockets: [new JsSIP.WebSocketInterface(o.ws_url)],
        uri: o.sip_uri,
        authorization_user: o.username,
        password: o.password,
        display_name: o.display_name,
        register: true,
        session_timers: false,
      });
      this.ua = ua;
      this._state("registering");
      let everRegistered = false;  // after that, a lost connection is JsSIP's to heal, not a failed start
      let retries = 0;
      const registered = new Promise((resolve, reject) => {
        ua.on("registered", () => { everRegistered = true; retries = 0; this._state("registered"); resolve(); });
        ua.on("registrationFailed", (e) => {
          const reason = "registration refused: " + (e.response ? e.response.status_code + " " + e.response.reason_phrase : e.cause);
          if (!everRegistered && this.ua === ua) {
            this.ua = null;  // a refused start leaves nothing running; start() again with new credentials
            ua.stop();
          } else if (this.ua === ua && retries < REREGISTER_TRIES) {
            // A restarted Asterisk may hear us before Teleplex has given it our phone again: try again shortly.
            retries += 1;
            setTimeout(() => { if (this.ua === ua) ua.register(); }, REREGISTER_DELAY_MS);
          }
          this._state("failed", reason);
          reject(new Error(reason));
        });
        ua.on("disconnected", () => {
          if (this.ua !== ua) return;
          if (!everRegistered) {
            const reason = "cannot reach " + o.ws_url;
            this.ua = null;
            ua.stop();
            this._state("failed", reason);
            reject(new Error(reason));
          } else if (this.state !== "registering") {
            this._state("registering", "connection lost; reconnecting");  // JsSIP reconnects and registers again
          }
        });
      });
      // JsSIP also says "unregistered" when the connection drops; it is then reconnecting, already reported
      ua.on("unregistered", () => { if (this.ua === ua && this.state !== "registering") this._state("unregistered"); });
      ua.on("newRTCSession", (e) => {
        if (e.originator !== "remote") return;
        const call = new TeleplexCall(e.session);
        const ended = (cause) => this._emit("ended", { call, cause });
        e.session.on("ended", (ev) => ended(ev.cause));
        e.session.on("failed", (ev) => ended(ev.cause));
        this._emit("incoming", call);
      });
      ua.start();
      return registered;
    }

    /** Unregister and disconnect; calls in progress are hung up. */
    stop() {
      const ua = this.ua;
      if (!ua) return;
      this.ua = null;
      ua.stop();
      this._state("unregistered");
    }
  }

  window.TeleplexPhone = TeleplexPhone;
})();
