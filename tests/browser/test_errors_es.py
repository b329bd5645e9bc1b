"""The API's errors on the Spanish interface: a validation error next to its field and a conflict are said in
Spanish (translated by the error's code and type through the catalogue), not in the API's English, and so is a
refusal a service writes (by its `reason`); the wrap-up refusal in the console is Spanish too."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, make_user, ok, sign_in, watch_errors  # noqa: F401
from wrapup_calls import call_in_wrapup

pytestmark = pytest.mark.browser


def test_admin_form_errors_are_in_spanish_next_to_the_field(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    make_user(live_center, "rocio", ["admin"], language="es")
    ok(admin(live_center).post("/api/v1/queues", json={"name": "Soporte"}))
    context = chromium.new_context(locale="es-ES", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "rocio")
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
    context = chromium.new_context(locale="es-ES", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())  # "delete Cobros?"
    sign_in(page, live_center, "ines")
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
    context = chromium.new_context(locale="es-ES", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "sergio")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")
    call_id = live_center.call(call_in_wrapup(live_center.app.state.engine, queue["id"], agent["id"]))
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    page.locator("#btn-wrapup-end").click()
    expect(page.locator(f"#panel-{call_id} .wrapup-missing")).to_have_text(
        "Antes de terminar el cierre, guarde: una tipificación, notas.")
    assert errors == []
    context.close()
