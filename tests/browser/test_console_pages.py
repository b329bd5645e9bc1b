"""The pages' HTTP edges: signed-out visitors are sent to the login page and back, static files never leave
static/, unknown screens answer the API's error shape, and the widget is still served where sites load it."""

from __future__ import annotations

import httpx
from console_harness import LiveCenter, admin, live_center, make_user, ok  # noqa: F401


def test_pages_redirect_to_login_and_keep_to_their_folders(live_center: LiveCenter) -> None:
    admin(live_center)
    with httpx.Client(base_url=live_center.url, timeout=30) as client:
        for path in ("/console", "/wallboard", "/campaigns", "/admin/queues"):
            r = client.get(path)
            assert (r.status_code, r.headers["location"]) == (303, f"/login?next={path}")
        assert client.get("/").headers["location"] == "/login"
        login = client.get("/login", headers={"accept-language": "es-ES,es;q=0.9"})
        assert login.status_code == 200 and "Iniciar sesión" in login.text
        assert login.headers["cache-control"] == "no-store"
        for path in ("/static/../pages.py", "/static/%2e%2e/pages.py", "/static/console/../../i18n.py",
                     "/static/nothing.js"):
            r = client.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
        assert "TeleplexPhone" not in client.get("/static/console/common.js").text
        assert client.head("/static/phone.js").status_code == 200  # how the console knows the browser phone is there
        assert client.get("/widget.js").status_code == 200

        make_user(live_center, "vera", ["supervisor"])
        ok(client.post("/api/v1/auth/session", json={"username": "vera", "password": "correct-horse-battery"}))
        assert client.get("/").headers["location"] == "/wallboard"
        r = client.get("/admin/no-such-screen")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert client.get("/admin").headers["location"] == "/admin/dnc"  # the one screen a supervisor may use
        denied = client.get("/admin/queues")  # a screen they may not use says so, instead of an empty page
        assert denied.status_code == 200 and "You may not administer Teleplex" in denied.text
        assert "admin.js" not in denied.text

        make_user(live_center, "walt", ["agent"], language="es")
        ok(client.post("/api/v1/auth/session", json={"username": "walt", "password": "correct-horse-battery"}))
        assert client.get("/admin").headers["location"] == "/admin/queues"
        assert "No puede administrar Teleplex" in client.get("/admin/queues").text
