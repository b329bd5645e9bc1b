// The browser phone seen from the console: loads /static/phone.js (the TeleplexPhone class), asks Teleplex
// for this login's WebRTC credentials, registers, and hands ringing calls to the console.

import { api, t } from "./common.js";

function loadScript(src) {
  if (window.TeleplexPhone) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(t("console.browser_phone_missing")));
    document.head.append(script);
  });
}

export class BrowserPhone {
  /** Registers the phone whose credentials `credentialsPath` issues (an agent's, or the supervisor's own
   * monitoring phone), resolving once registered; `onState(s)` hears every registration change. */
  static async start(credentialsPath, onState, onIncoming) {
    await loadScript("/static/phone.js");
    const r = await api("POST", credentialsPath);
    if (!r.ok) throw new Error(r.error.message);
    const phone = new BrowserPhone(r.data, onState, onIncoming);
    await phone.register();
    return phone;
  }

  constructor(credentials, onState, onIncoming) {
    this.device = credentials.device;
    this.call = null;
    this.muted = false;
    this.phone = new window.TeleplexPhone({
      ws_url: credentials.ws_url, sip_uri: credentials.sip_uri, username: credentials.username,
      password: credentials.password, display_name: credentials.display_name,
    });
    this.onState = onState;
    this.phone.on("incoming", (call) => {
      this.call = call;
      this.ringing = true;
      onIncoming(call);
    });
    this.phone.on("ended", () => {
      this.call = null;
      this.ringing = false;
      this.muted = false;
      onIncoming(null);
    });
  }

  /** Registers; phone.js resolves once registered and rejects with the reason it could not. */
  async register() {
    this.phone.on("state", (change) => this.onState(typeof change === "string" ? change : change.state));
    try {
      await this.phone.start();
    } catch (err) {
      throw new Error(`${t("phone.failed")} (${err.message || err})`);
    }
  }

  answer() { if (this.call) { this.call.answer(); this.ringing = false; } }
  hangup() { if (this.call) this.call.hangup(); }
  toggleMute() {
    if (!this.call) return false;
    this.muted = !this.muted;
    if (this.muted) this.call.mute(); else this.call.unmute();
    return this.muted;
  }
  dtmf(digit) { if (this.call) this.call.dtmf(digit); }
  stop() { this.phone.stop(); }
}
