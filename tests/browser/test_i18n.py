"""English and Spanish: one catalogue with both languages for every key; the login page follows the browser's
Accept-Language, a signed-in user's own setting wins, and the Spanish main screens show no English string."""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from console_harness import LiveCenter, admin, live_center, make_user, ok, sign_in, watch_errors  # noqa: F401

from teleplex.web.catalogue import CATALOGUE
from teleplex.web.i18n import from_accept_language


def test_every_catalogue_key_has_english_and_spanish_with_the_same_placeholders() -> None:
    for key, texts in CATALOGUE.items():
        assert set(texts) == {"en", "es"}, key
        assert texts["en"].strip() and texts["es"].strip(), key
        names = [{f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in ("en", "es")]
        assert names[0] == names[1], key


@pytest.mark.parametrize(("header", "language"), [
    ("es-MX,es;q=0.9,en;q=0.8", "es"), ("en-US,en;q=0.9,es;q=0.8", "en"), ("fr-FR,fr;q=0.9,es;q=0.5", "es"),
    ("de-DE", "en"), ("", "en"), ("en;q=0.2,es;q=0.7", "es"), ("es;q=abc,en", "en"),
])
def test_accept_language_picks_the_best_language_we_have(header: str, language: str) -> None:
    assert from_accept_language(header) == language



ENGLISH_ONLY = sorted({t["en"] for t in CATALOGUE.values() if t["en"] != t["es"]}, key=len, reverse=True)


def _english_left(text: str) -> list[str]:
    """English catalogue strings found as whole words in a page's text."""
    found = []
    for value in ENGLISH_ONLY:
        plain = re.sub(r"\{\w+\}", "", value).strip(" .:…")
        if len(plain) < 3:
            continue
        if re.search(rf"(?<![\w]){re.escape(plain)}(?![\w])", text):
            found.append(value)
    return found


def _visible_text(page: Any) -> str:
    """What a person reads or hears: text, labels, placeholders and titles (the language menu names each
    language in its own tongue, so it is left out)."""
    return page.evaluate("""() => {
        const clone = document.body.cloneNode(true);
        clone.querySelectorAll('#tpx-language, script, [hidden]').forEach((n) => n.remove());
        const attrs = [...clone.querySelectorAll('[aria-label],[title],[placeholder]')]
            .map((n) => [n.getAttribute('aria-label'), n.getAttribute('title'), n.getAttribute('placeholder')].join(' '));
        return document.title + '\\n' + clone.innerText + '\\n' + attrs.join('\\n');
    }""")


def _raw_labels(page: Any) -> list[str]:
    """Form labels that show the API's field key (`penalty`, `open`) instead of a catalogue label."""
    texts = page.locator(".resource-form label[for]").all_inner_texts()
    return [x for x in (t.replace("*", "").strip() for t in texts) if re.fullmatch(r"[a-z][a-z0-9_]*", x)]


@pytest.mark.browser
def test_login_page_speaks_the_browsers_language(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    for locale, title, button in (("es-ES", "Iniciar sesión", "Entrar"), ("en-GB", "Sign in", "Sign in")):
        context = chromium.new_context(locale=locale)
        page = context.new_page()
        errors = watch_errors(page)
        page.goto(live_center.url + "/")
        expect(page.locator("h1")).to_have_text(title)
        expect(page.locator("#login-form button[type=submit]")).to_have_text(button)
        assert page.locator("html").get_attribute("lang") == locale[:2]
        page.locator("input[name=username]").fill("nobody")
        page.locator("input[name=password]").fill("wrong-password")
        page.locator("#login-form button[type=submit]").click()
        expect(page.locator("#login-error")).to_have_text(
            "Usuario o contraseña incorrectos." if locale == "es-ES" else "Wrong user name or password.")
        assert errors == []
        context.close()


@pytest.mark.browser
def test_a_users_own_language_wins_over_the_browsers(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    make_user(live_center, "lucia", ["supervisor"], language="es", timezone="America/Mexico_City")
    make_user(live_center, "oliver", ["supervisor"], language="en")
    for username, locale, heading, nav in (("lucia", "en-GB", "Panel en vivo", "Panel en vivo"),
                                          ("oliver", "es-ES", "Wallboard", "Wallboard")):
        context = chromium.new_context(locale=locale)
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, username)
        expect(page.locator("main h1")).to_have_text(heading)
        expect(page.locator("nav a[aria-current=page]")).to_have_text(nav)
        assert errors == []
        context.close()


@pytest.mark.browser
def test_switching_language_in_the_header_is_kept_on_the_user(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    user = make_user(live_center, "marta", ["supervisor"], language="en")
    context = chromium.new_context()
    page = context.new_page()
    sign_in(page, live_center, "marta")
    expect(page.locator("main h1")).to_have_text("Wallboard")
    page.locator("#tpx-language").select_option("es")
    expect(page.locator("main h1")).to_have_text("Panel en vivo")
    assert ok(admin(live_center).get(f"/api/v1/users/{user['id']}"))["language"] == "es"
    context.close()


@pytest.mark.browser
def test_spanish_main_screens_show_no_english_string(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    queue = ok(admin(live_center).post("/api/v1/queues", json={"name": "Ventas", "channels": ["voice", "webchat"]}))
    user = make_user(live_center, "pilar", ["admin", "agent", "supervisor"], language="es", timezone="Asia/Tokyo",
                     supervised_queue_ids=[queue["id"]])
    ok(admin(live_center).post("/api/v1/agents", json={"user_id": user["id"], "number": "3001",
                                                       "display_name": "Pilar", "device": "PJSIP/3001",
                                                       "queues": [{"queue_id": queue["id"]}]}))
    ok(admin(live_center).post("/api/v1/campaigns", json={"name": "Otoño", "queue_id": queue["id"]}))
    context = chromium.new_context(locale="es-ES")
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "pilar")
    screens = {
        "/console": "#login-panel:not([hidden]), #workspace:not([hidden])",
        "/wallboard": "#queues article",
        "/campaigns": "article.campaign .outcomes li",
        "/admin/queues": "table.grid",
        "/admin/agents": "table.grid",
        "/admin/users": "table.grid",
        "/admin/audit-log": "table.grid tbody tr",
    }
    for path, ready in screens.items():
        page.goto(live_center.url + path)
        expect(page.locator(ready).first).to_be_visible()
        assert _english_left(_visible_text(page)) == [], path
        if path == "/admin/audit-log":  # times in the user's own time zone (Tokyo, UTC+9 all year)
            newest = ok(admin(live_center).get("/api/v1/audit-log?limit=1"))["items"][0]
            at = datetime.fromisoformat(newest["at"]).astimezone(ZoneInfo("Asia/Tokyo"))
            expect(page.locator("table.grid tbody tr").first).to_contain_text(
                f"{at.day}/{at.month}/{at:%y}, {at.hour}:{at:%M:%S}")
    page.goto(live_center.url + "/console")
    page.locator("#agent-login").click()  # into the workspace: state bar, tabs, customer panel
    expect(page.locator("#state-badge")).to_have_text("Disponible")
    assert _english_left(_visible_text(page)) == [], "/console (working)"
    page.get_by_role("button", name="Programar devolución de llamada").click()  # the campaign panel's form
    expect(page.locator(".callback-form")).to_contain_text("Horas en Asia/Tokyo")
    assert _english_left(_visible_text(page)) == [], "/console (callback)"
    page.goto(live_center.url + "/admin/queues")
    page.locator("#admin-new").click()  # the generic form, labelled from the catalogue
    expect(page.locator(".resource-form")).to_be_visible()
    assert _english_left(_visible_text(page)) == [], "/admin/queues (new)"
    assert _raw_labels(page) == [], "/admin/queues (new)"
    # forms whose rows have their own fields: opening hours and holidays, an agent's queues with a penalty
    for path, labels in (("/admin/business-hours", ["Día", "Abre", "Cierra", "Fecha"]),
                         ("/admin/agents", ["Cola", "Penalización"])):
        page.goto(live_center.url + path)
        page.locator("#admin-new").click()
        add_row = page.get_by_role("button", name="Añadir una fila")
        expect(add_row.first).to_be_visible()
        for i in range(add_row.count()):
            add_row.nth(i).click()
        for text in labels:
            expect(page.locator(".rows-editor label", has_text=re.compile(rf"^{text}")).first).to_be_visible()
        assert _english_left(_visible_text(page)) == [], f"{path} (new, with rows)"
        assert _raw_labels(page) == [], f"{path} (new, with rows)"
    page.goto(live_center.url + "/admin/campaigns")
    page.get_by_role("button", name="Listas").click()  # a campaign's lists, then the upload form of a new one
    page.locator("#list-name").fill("Octubre")
    page.get_by_role("button", name="Crear lista").click()
    expect(page.locator("#upload-box form")).to_be_visible()
    assert _english_left(_visible_text(page)) == [], "/admin/campaigns (lists)"
    assert errors == []
    context.close()


def test_users_set_their_own_language_and_time_zone_and_unknown_zones_are_refused(live_center: LiveCenter) -> None:
    import httpx

    make_user(live_center, "tomas", ["agent"])
    with httpx.Client(base_url=live_center.url, timeout=30) as client:
        ok(client.post("/api/v1/auth/session", json={"username": "tomas", "password": "correct-horse-battery"}))
        refused = client.patch("/api/v1/auth/me", json={"timezone": "Mars/Olympus_Mons"})
        assert refused.status_code == 403  # a cookie write without X-Requested-With
        client.headers["X-Requested-With"] = "test"
        refused = client.patch("/api/v1/auth/me", json={"timezone": "Mars/Olympus_Mons"})
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["field"] == "timezone"
        assert client.patch("/api/v1/auth/me", json={"language": None}).status_code == 422
        me = ok(client.patch("/api/v1/auth/me", json={"language": "es", "timezone": "Europe/Madrid"}))
        assert (me["language"], me["timezone"]) == ("es", "Europe/Madrid")
        assert ok(client.get("/api/v1/auth/me"))["timezone"] == "Europe/Madrid"
    entry = ok(admin(live_center).get("/api/v1/audit-log?entity_type=user&limit=1"))["items"][0]
    assert entry["actor_name"] == "tomas" and entry["after"]["timezone"] == "Europe/Madrid"
