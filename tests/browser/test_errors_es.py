"""The API's errors on the Spanish interface: a validation error next to its field and a conflict are said in
Spanish (translated by the error's code and type through the catalogue), not in the API's English, and so is a
refusal a service writes (by its `reason`), with the specifics its details hold (which credential, which channel
kind, which campaign state); the wrap-up refusal in the console, a refused lead file and a provider's delivery
failure are Spanish too."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, make_user, ok, sign_in, watch_errors  # noqa: F401
from test_console_campaigns import ALL_DAY, CSV
from test_console_chat import setup_chat, visitor_writes
from wrapup_calls import call_in_wrapup

pytestmark = pytest.mark.browser


def spanish_page(center: LiveCenter, chromium: Any, username: str) -> tuple[Any, Any, list[str]]:
    """A Spanish browser signed in as `username` (a user made with language "es"), and its page's errors."""
    context = chromium.new_context(locale="es-ES", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, center, username)
    return context, page, errors


def test_admin_form_errors_are_in_spanish_next_to_the_field(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    make_user(live_center, "rocio", ["admin"], language="es")
    ok(admin(live_center).post("/api/v1/queues", json={"name": "Soporte"}))
    context, page, errors = spanish_page(live_center, chromium, "rocio")
    page.goto(live_center.url + "/admin/queues")

    page.locator("#admin-new").click()
    page.locator("#f-name").fill("x" * 101)  # the API takes at most 100 characters
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("#err-name")).to_have_text("como máximo 100 caracteres")
    expect(page.locator("#f-name")).to_have_attribute("aria-invalid", "true")

    page.locator("#f-service_level_seconds").fill("0")  # and at least 1 second
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("#err-service_level_seconds")).to_have_text("debe ser 1 o más")

    page.locator("#f-name").fill("Soporte")  # taken: a conflict, shown at the field it names
    page.locator("#f-service_level_seconds").fill("20")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("#err-name")).to_have_text("Nombre «Soporte» ya está en uso.")
    expect(page.locator("#f-name")).to_be_focused()
    assert errors == []
    context.close()


def test_a_refusal_written_by_the_service_is_in_spanish(live_center: LiveCenter, chromium: Any) -> None:
    """Deleting a queue that still has member agents: the API's English reason is said by its `reason` key."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    make_user(live_center, "ines", ["admin"], language="es")
    queue = ok(admin(live_center).post("/api/v1/queues", json={"name": "Cobros"}))
    make_agent(live_center, "tomas", [queue["id"]], number="2701")
    context, page, errors = spanish_page(live_center, chromium, "ines")
    page.on("dialog", lambda dialog: dialog.accept())  # "delete Cobros?"
    page.goto(live_center.url + "/admin/queues")

    page.locator(f"tr[data-id='{queue['id']}'] button.danger").click()
    expect(page.locator("#tpx-toast")).to_have_text(
        "La cola «Cobros» tiene agentes miembros (2701): quítelos primero.")
    expect(page.locator(f"tr[data-id='{queue['id']}']")).to_be_visible()  # refused: still listed
    assert errors == []
    context.close()


def test_the_wrapup_refusal_is_in_spanish(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    ok(client.post("/api/v1/dispositions", json={"code": "venta", "label": "Venta", "category": "success"}))
    queue = ok(client.post("/api/v1/queues", json={"name": "Ventas", "wrapup_seconds": 600,
                                                   "wrapup_requires": ["disposition", "notes"]}))  # fmt: skip
    agent = make_agent(live_center, "sergio", [queue["id"]], language="es", display_name="Sergio", number="2601")
    context, page, errors = spanish_page(live_center, chromium, "sergio")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")
    call_id = live_center.call(call_in_wrapup(live_center.app.state.engine, queue["id"], agent["id"]))
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    page.locator("#btn-wrapup-end").click()
    expect(page.locator(f"#panel-{call_id} .wrapup-missing")).to_have_text(
        "Antes de terminar el cierre, guarde: una tipificación, notas.")
    assert errors == []
    context.close()


def test_a_refusal_with_a_detailed_cause_names_it_in_spanish(live_center: LiveCenter, chromium: Any) -> None:
    """A WhatsApp channel without its credentials: the Spanish message names the credential and the channel's
    kind (from the error's details), as the English one does, at the field it concerns."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    make_user(live_center, "adela", ["admin"], language="es")
    context, page, errors = spanish_page(live_center, chromium, "adela")
    page.goto(live_center.url + "/admin/channels")

    page.locator("#admin-new").click()
    page.locator("#f-kind").select_option("whatsapp")
    page.locator("#f-name").fill("WhatsApp Ventas")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("#err-credentials")).to_have_text(
        "Credenciales (access_token): obligatorio para un canal de WhatsApp.")
    expect(page.locator("#f-credentials")).to_have_attribute("aria-invalid", "true")
    assert errors == []
    context.close()


def test_a_campaign_refusal_says_the_campaigns_name_and_state_in_spanish(
    live_center: LiveCenter, chromium: Any
) -> None:
    """Deleting a running campaign is refused: the Spanish toast names it and says its state ("en marcha")."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Salientes", "channels": ["voice"]}))
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": "Otoño", "queue_id": queue["id"], "dial_mode": "preview", "calling_windows": ALL_DAY,
        "allow_outside_legal_hours": True}))
    lst = ok(client.post(f"/api/v1/campaigns/{campaign['id']}/lists", json={"name": "hoy"}))
    ok(client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone",
                   "first_name_column": "first_name", "last_name_column": "last_name"},
                   content=CSV.encode(), headers={"content-type": "text/csv"}))  # fmt: skip
    ok(client.post(f"/api/v1/campaigns/{campaign['id']}/start"))
    make_user(live_center, "bruno", ["admin"], language="es")
    context, page, errors = spanish_page(live_center, chromium, "bruno")
    page.on("dialog", lambda dialog: dialog.accept())  # "delete Otoño?"
    page.goto(live_center.url + "/admin/campaigns")

    page.locator(f"tr[data-id='{campaign['id']}'] button.danger").click()
    expect(page.locator("#tpx-toast")).to_have_text("La campaña «Otoño» está en marcha: deténgala primero.")
    expect(page.locator(f"tr[data-id='{campaign['id']}']")).to_be_visible()  # refused: still listed
    assert errors == []
    context.close()


def test_a_refused_lead_file_is_explained_in_spanish(live_center: LiveCenter, chromium: Any) -> None:
    """The lists screen uploads the file itself (not through api()): its refusal is in Spanish too, with the
    rejected rows listed and why, in Spanish (by each row's code)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue = ok(admin(live_center).post("/api/v1/queues", json={"name": "Prospección"}))
    campaign = ok(admin(live_center).post("/api/v1/campaigns",
                                          json={"name": "Invierno", "queue_id": queue["id"]}))
    make_user(live_center, "carla", ["admin"], language="es")
    context, page, errors = spanish_page(live_center, chromium, "carla")
    page.goto(live_center.url + "/admin/campaigns")
    page.locator(f"tr[data-id='{campaign['id']}']").get_by_role("button", name="Listas").click()
    page.locator("#list-name").fill("Enero")
    page.get_by_role("button", name="Crear lista").click()
    page.locator("#lists-file").set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": b"phone,first_name\nabc,Ana\n"}])
    page.locator("#upload-box form button[type=submit]").click()
    expect(page.locator("#upload-error")).to_have_text(
        "No se puede usar el archivo: revise su formato, su codificación y sus columnas.")
    expect(page.locator("table.rejected tbody tr td")).to_have_text(["2", "abc", "número no válido"])
    assert errors == []
    context.close()


def test_a_failed_delivery_is_explained_in_spanish_by_the_providers_code(live_center: LiveCenter,
                                                                         chromium: Any) -> None:
    """A reply the provider could not deliver (WhatsApp's 131047, the 24-hour rule) says why in Spanish; the
    provider's English words stay in the title."""
    from playwright.sync_api import expect
    from sqlalchemy import update

    from teleplex.messaging.models import Message

    expect.set_options(timeout=20_000)
    queue, _channel, _site, site_url = setup_chat(live_center, "Ayuda web", "Chat del sitio")
    make_agent(live_center, "elena", [queue["id"]], language="es", display_name="Elena", number="2801")
    context, page, errors = spanish_page(live_center, chromium, "elena")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Disponible")
    visitor = visitor_writes(chromium, site_url, "¿Dónde está mi pedido?")
    page.locator("#offers article").get_by_role("button", name="Aceptar").click()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    panel.locator("textarea[name=reply]").fill("Un momento, lo miro")
    panel.get_by_role("button", name="Enviar", exact=True).click()
    expect(panel.locator(".msg.out .text")).to_have_text(["Un momento, lo miro"])
    expect(panel.locator(".msg.out .status")).to_have_text([" · leído"])  # the visitor read it: then leaves
    visitor.context.close()
    reply_id = int(panel.locator(".msg.out").get_attribute("data-message-id"))
    english = "Message failed to send because more than 24 hours have passed since the customer last replied."

    async def undelivered() -> None:
        async with live_center.db.session() as session:
            await session.execute(update(Message).where(Message.id == reply_id)
                                  .values(status="failed", error_code="131047", error_message=english))
            await session.commit()

    live_center.call(undelivered())
    page.reload()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    status = panel.locator(".msg.out .status.failed")
    expect(status).to_have_text(" · No entregado: Han pasado más de 24 horas desde la última respuesta del "
                                "cliente: envíe una plantilla aprobada.")
    expect(status).to_have_attribute("title", english)
    assert errors == []
    context.close()


def test_a_refused_campaign_start_lists_each_problem_in_spanish(live_center: LiveCenter, chromium: Any) -> None:
    """A predictive campaign with no abandon message and no leads cannot start: the card lists both problems
    in Spanish (each said by its code), not the API's English."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue = ok(admin(live_center).post("/api/v1/queues", json={"name": "Renovaciones", "channels": ["voice"]}))
    campaign = ok(admin(live_center).post("/api/v1/campaigns", json={
        "name": "Renovación anual", "queue_id": queue["id"], "dial_mode": "predictive", "calling_windows": ALL_DAY,
        "allow_outside_legal_hours": True}))
    make_user(live_center, "valeria", ["admin"], language="es")
    context, page, errors = spanish_page(live_center, chromium, "valeria")
    page.goto(live_center.url + "/campaigns")

    card = page.locator(f"article.campaign[data-campaign-id='{campaign['id']}']")
    card.get_by_role("button", name="Iniciar").click()
    expect(card.locator("[role=alert]")).to_have_text(
        "La campaña todavía no puede empezar: la marcación predictiva puede abandonar llamadas y necesita un "
        "mensaje que identifique a quien llama; no hay nada que marcar (ningún contacto pendiente en una lista "
        "activa, o todos están en listas de no llamar).")
    expect(card.locator(".badge")).to_have_text("borrador")  # refused: still a draft
    assert errors == []
    context.close()
