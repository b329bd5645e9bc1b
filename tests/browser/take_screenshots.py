"""Screenshots of the main screens at 1280x720 for the README and docs/web.md.

    .venv/bin/python tests/browser/take_screenshots.py [docs/screenshots]

Starts Teleplex on loopback with a throwaway database, fills it with a small demo (queues, agents, a waiting
chat, a chat in progress, an outbound queue with campaigns and their attempts, a WhatsApp chat through the
fake Graph API on loopback), drives Debian's chromium through the screens and writes PNGs. The call screen
(console-call.png) needs Asterisk: tests/browser/test_console_voice.py makes it (see docs/web.md).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the fake providers

from console_harness import LiveCenter, admin, make_agent, make_user, ok, sign_in, wait_for  # noqa: E402
from test_campaign_monitor import campaign_with_leads, record_attempts  # noqa: E402
from test_console_campaigns import RecordingVoice, preview_campaign  # noqa: E402
from test_console_chat import setup_chat, visitor_writes  # noqa: E402
from test_console_chat_extras import TEMPLATES, FakeGraphThread, signed_whatsapp  # noqa: E402
from widget_harness import CHROMIUM  # noqa: E402

from fakes.harness import CHANNELS, fixture_bytes  # noqa: E402
from teleplex.campaigns.live import CampaignDialer  # noqa: E402
from teleplex.campaigns.rules import Outcome  # noqa: E402

SIZE = {"width": 1280, "height": 720}
SPRING_CSV = "phone\n" + "".join(f"+349112345{n:02d}\n" for n in range(30, 50))
LEADS_CSV = (b"phone,first_name,city\n+34911234521,Ana,Madrid\n12ab,Bruno,Lugo\n+34911234522,Carla,Vigo\n"
             b"+34911234523,Diego,Sevilla\n+3491,Elena,Bilbao\n")


def campaign_screens(browser: Any, center: LiveCenter, folder: Path) -> None:
    """The campaign monitor, the console's campaign panel with a lead card, and a list's CSV import report."""
    from playwright.sync_api import expect

    client = admin(center)
    outbound = ok(client.post("/api/v1/queues", json={"name": "Outbound", "channels": ["voice"]}))
    make_user(center, "carla", ["supervisor"], supervised_queue_ids=[outbound["id"]],
              display_name="Carla Supervisor")
    spring = campaign_with_leads(center, outbound["id"], "Spring offer", SPRING_CSV)
    ok(client.post(f"/api/v1/campaigns/{spring['id']}/start"))
    outcomes = [Outcome.ANSWERED] * 6 + [Outcome.BUSY] * 2 + [Outcome.NO_ANSWER] * 3 + [Outcome.MACHINE,
                                                                                         Outcome.ABANDONED]
    center.call(record_attempts(center, spring["id"], outcomes))
    renewals = preview_campaign(center, outbound["id"], "Renewals")
    ok(client.post("/api/v1/campaigns", json={"name": "Autumn", "queue_id": outbound["id"]}))
    make_agent(center, "irene", [outbound["id"]], display_name="Irene", number="2301")

    sup = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
    sign_in(sup, center, "carla")
    sup.goto(center.url + "/campaigns")
    card = sup.locator(f"article.campaign[data-campaign-id='{spring['id']}']")
    expect(card.locator("[data-figure=attempts] .value")).to_have_text(str(len(outcomes)))
    expect(card.locator("[data-figure=abandon_24h]")).to_have_class("figure alert")
    sup.screenshot(path=folder / "campaign-monitor.png")

    page = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
    sign_in(page, center, "irene")
    page.locator("#device-input").fill("PJSIP/2301")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Ready")
    state = center.app.state

    async def dialer_on() -> None:  # a dialer whose voice channel records calls instead of reaching Asterisk
        voice: Any = RecordingVoice()
        state.dialer = CampaignDialer(state.engine, voice, center.settings)

    center.call(dialer_on())
    try:
        item = page.locator(f"#campaigns li[data-campaign-id='{renewals['id']}']")
        item.get_by_role("button", name="Next lead").click()
        expect(page.locator("#lead-card article.lead h3")).to_have_text("Ana García")
        page.screenshot(path=folder / "console-campaign.png")
    finally:
        state.dialer = None

    adm = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
    sign_in(adm, center, "admin", "admin-password")
    adm.goto(center.url + "/admin/campaigns")
    adm.locator("table.grid tbody tr", has_text="Autumn").get_by_role("button", name="Lists").click()
    adm.get_by_label("List name").fill("October")
    adm.get_by_role("button", name="Create list").click()
    expect(adm.locator("#upload-box h3")).to_have_text("Upload leads to October")
    chosen = {"name": "october.csv", "mimeType": "text/csv", "buffer": LEADS_CSV}
    adm.get_by_label("CSV file").set_input_files(chosen)
    adm.get_by_label("First name column").fill("first_name")
    adm.locator("#upload-box form button[type=submit]").click()
    report = adm.locator("#import-report")
    expect(report.locator("[data-figure=added]")).to_have_text("3")
    report.scroll_into_view_if_needed()
    expect(adm.locator("#tpx-toast")).to_be_hidden()  # "Created." has gone
    adm.screenshot(path=folder / "admin-lists.png")


def whatsapp_screen(browser: Any, center: LiveCenter, folder: Path) -> None:
    """A WhatsApp chat (through the fake Graph API): a reply WhatsApp could not deliver, with its reason, then
    the 24-hour window closed and the approved templates offered instead of the reply box."""
    from playwright.sync_api import expect
    from sqlalchemy import update

    from teleplex.messaging.models import Message

    client = admin(center)
    queue = ok(client.post("/api/v1/queues", json={"name": "WhatsApp sales", "channels": ["whatsapp"]}))
    base = CHANNELS["whatsapp"]
    channel = ok(client.post("/api/v1/channels", json={**base, "settings": {
        **base["settings"], "queue_id": queue["id"], "templates": TEMPLATES}}))
    make_agent(center, "wendy", [queue["id"]], display_name="Wendy", number="2202")
    page = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
    sign_in(page, center, "wendy")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Ready")
    signed_whatsapp(center, channel["id"], json.loads(fixture_bytes("whatsapp", "text")))
    page.locator("#offers article").get_by_role("button", name="Accept").click()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    expect(panel.locator(".window")).to_contain_text("WhatsApp window open until")
    panel.locator("textarea[name=reply]").fill("We have it in blue")
    panel.get_by_role("button", name="Send", exact=True).click()
    expect(panel.locator(".msg.out .status")).to_have_text([" · sent"])
    chat_id = int(page.locator("[role=tab][aria-selected=true]").get_attribute("data-interaction"))
    reply_id = int(panel.locator(".msg.out").get_attribute("data-message-id"))
    wamid = wait_for("the reply's WhatsApp id", lambda: ok(client.get(f"/api/v1/messages/{reply_id}"))[
        "provider_message_id"])
    failed = json.loads(fixture_bytes("whatsapp", "status_failed"))
    failed["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    signed_whatsapp(center, channel["id"], failed)
    expect(panel.locator(".msg.out .status.failed")).to_be_visible()

    async def a_day_later() -> None:  # the customer's message is now 25 hours old: the window has closed
        async with center.db.session() as session:
            received = update(Message).where(Message.interaction_id == chat_id, Message.direction == "in")
            await session.execute(received.values(created_at=datetime.now(UTC) - timedelta(hours=25)))

    center.call(a_day_later())
    page.reload()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    expect(panel.locator(".window.closed")).to_be_visible()
    expect(panel.locator("select[name=template] option")).to_have_count(1)
    expect(page.locator("#customer-body")).not_to_contain_text("Open an interaction")  # the tab's customer
    page.screenshot(path=folder / "console-whatsapp.png")


def main(folder: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    graph = FakeGraphThread()  # WhatsApp's Cloud API, on loopback
    graph.start()
    center = LiveCenter()
    center.settings = center.settings.model_copy(update={"whatsapp_api_url": graph.url})
    center.start()
    try:
        client = admin(center)
        queue, _channel, site, site_url = setup_chat(center)
        sales = ok(client.post("/api/v1/queues", json={"name": "Sales", "channels": ["voice", "whatsapp"],
                                                       "service_level_seconds": 30}))
        make_user(center, "sam", ["supervisor"], supervised_queue_ids=[queue["id"], sales["id"]],
                  display_name="Sam Supervisor")
        make_agent(center, "alex", [queue["id"], sales["id"]], display_name="Alex Agent", number="2001")
        other = make_agent(center, "bea", [sales["id"]], display_name="Bea Agent", number="2002")
        make_agent(center, "lola", [queue["id"]], language="es", display_name="Lola", number="2003")
        ok(client.post("/api/v1/pause-reasons", json={"name": "Lunch", "paid": False}))
        ok(client.post("/api/v1/dispositions", json={"code": "solved", "label": "Solved", "category": "success"}))
        ok(client.post("/api/v1/canned-responses", json={"shortcut": "hi", "title": "Greeting",
                                                         "body": "Hello {contact.name}, how can I help?"}))
        ok(client.post(f"/api/v1/agents/{other['id']}/login", json={"pause_reason": "Lunch"}))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            expect.set_options(timeout=20_000)
            page = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
            page.goto(center.url + "/login")
            page.screenshot(path=folder / "login.png")

            sign_in(page, center, "alex")
            page.locator("#agent-login").click()
            expect(page.locator("#state-badge")).to_have_text("Ready")
            visitor_writes(browser, site_url, "Hi, my order #1234 has not arrived yet.")
            page.locator("#offers article button.accept").click()
            panel = page.locator("[role=tabpanel]:not([hidden])")
            panel.get_by_role("button", name="Send canned response").click()
            expect(panel.locator(".msg.out")).to_have_count(1)
            panel.locator("textarea[name=reply]").fill("Let me look at the tracking for you")
            visitor_writes(browser, site_url, "Do you ship to Canada?")  # a second chat, offered
            expect(page.locator("#offers article")).to_have_count(1)
            page.screenshot(path=folder / "console.png")

            sup = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
            sign_in(sup, center, "sam")
            expect(sup.locator("#agents tbody tr[data-agent-id]")).to_have_count(2)
            sup.screenshot(path=folder / "wallboard.png")

            adm = browser.new_context(viewport=SIZE, locale="en-GB").new_page()
            sign_in(adm, center, "admin", "admin-password")
            expect(adm.locator("table.grid")).to_be_visible()
            adm.screenshot(path=folder / "admin-queues.png")
            adm.locator("#admin-new").click()
            adm.locator("#f-name").fill("")
            adm.locator(".resource-form button[type=submit]").click()
            expect(adm.locator(".resource-form .field-error:not([hidden])").first).to_be_visible()
            adm.screenshot(path=folder / "admin-queue-form.png")
            adm.goto(center.url + "/admin/audit-log")
            expect(adm.locator("table.grid tbody tr").first).to_be_visible()
            adm.screenshot(path=folder / "audit-log.png")

            es = browser.new_context(viewport=SIZE, locale="es-ES").new_page()
            sign_in(es, center, "lola")
            es.locator("#agent-login").click()
            expect(es.locator("#state-badge")).not_to_have_text("")
            es.screenshot(path=folder / "console-es.png")

            campaign_screens(browser, center, folder)
            whatsapp_screen(browser, center, folder)
            browser.close()
        site.shutdown()
        print("wrote", ", ".join(sorted(p.name for p in folder.glob("*.png"))), "to", folder)
    finally:
        center.stop()
        graph.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
