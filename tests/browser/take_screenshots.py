"""Screenshots of the main screens at 1280x720 for the README and docs/web.md.

    .venv/bin/python tests/browser/take_screenshots.py [docs/screenshots]

Starts Teleplex on loopback with a throwaway database, fills it with a small demo (queues, agents, a waiting
chat, a chat in progress), drives Debian's chromium through the screens and writes PNGs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_harness import LiveCenter, admin, make_agent, make_user, ok, sign_in  # noqa: E402
from test_console_chat import setup_chat, visitor_writes  # noqa: E402
from widget_harness import CHROMIUM  # noqa: E402

SIZE = {"width": 1280, "height": 720}


def main(folder: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    center = LiveCenter()
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
            browser.close()
        site.shutdown()
        print("wrote", ", ".join(sorted(p.name for p in folder.glob("*.png"))), "to", folder)
    finally:
        center.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
