"""The web interface's routes: server-rendered pages and their static files, nothing else.

Pages read the session cookie only to know who is looking (their language, time zone and what they may
do); every action the page takes goes through the public API with the same cookie, so the interface can
do nothing the API would not allow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from teleplex.auth import service as auth
from teleplex.auth.deps import SESSION_COOKIE
from teleplex.core.errors import NotFound, TeleplexError
from teleplex.web import i18n
from teleplex.web.admin_resources import BY_KEY, RESOURCES

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
router = APIRouter(include_in_schema=False)
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
MONITOR_PERMISSIONS = {"campaigns.read", "campaigns.control", "campaigns.write"}  # supervisors and admins
NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


async def viewer(request: Request) -> dict[str, Any] | None:
    """Who holds this browser's session (`/auth/me`'s answer), or None when nobody valid does."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    app = request.app
    try:
        async with app.state.db.session() as session:
            principal = await auth.principal_from_token(session, app.state.clock, raw, via_cookie=True)
            if principal.kind != "user":
                return None
            return await auth.me(session, principal)
    except TeleplexError:
        return None


def _language(request: Request, me: dict[str, Any] | None) -> str:
    if me is not None and me.get("language") in i18n.LANGUAGES:
        return str(me["language"])
    return i18n.from_accept_language(request.headers.get("accept-language"))


def _home(me: dict[str, Any]) -> str:
    """Where someone lands after logging in: the screen of the work they do most."""
    permissions = set(me["permissions"])
    if me.get("agent_id") is not None:
        return "/console"
    if "queues.write" in permissions:
        return "/admin/queues"
    if "queues.read" in permissions:
        return "/wallboard"
    return "/login"


def _nav(me: dict[str, Any]) -> list[tuple[str, str]]:
    permissions = set(me["permissions"])
    items = []
    if me.get("agent_id") is not None:
        items.append(("/console", "nav.console"))
    if "queues.read" in permissions:
        items.append(("/wallboard", "nav.wallboard"))
    if permissions & MONITOR_PERMISSIONS:
        items.append(("/campaigns", "nav.campaigns"))
    if "queues.write" in permissions:
        items.append(("/admin/queues", "nav.admin"))
    return items


def render(request: Request, name: str, me: dict[str, Any] | None, **context: Any) -> HTMLResponse:
    """A page in the viewer's language, with the strings and settings its JavaScript needs."""
    language = _language(request, me)
    page = {"language": language, "timezone": (me or {}).get("timezone") or "UTC", "me": me, **context}
    html = templates.get_template(name).render(
        t=i18n.translator(language),
        lang=language,
        me=me,
        nav=_nav(me) if me else [],
        path=request.url.path,
        strings_json=json.dumps(i18n.strings(language), ensure_ascii=False).replace("</", "<\\/"),
        page_json=json.dumps(page, default=str).replace("</", "<\\/"),
        **context,
    )
    return HTMLResponse(html, headers=NO_STORE)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


@router.get("/")
async def home(request: Request) -> Response:
    me = await viewer(request)
    return RedirectResponse(_home(me) if me else "/login", status_code=303)


@router.get("/login")
async def login_page(request: Request) -> Response:
    return render(request, "login.html", await viewer(request))


async def _signed_in(request: Request, template: str) -> Response:
    """A page for signed-in users; anyone else goes to the login page and comes back after."""
    me = await viewer(request)
    if me is None:
        return _login_redirect(request)
    return render(request, template, me)


@router.get("/console")
async def console_page(request: Request) -> Response:
    return await _signed_in(request, "console.html")


@router.get("/wallboard")
async def wallboard_page(request: Request) -> Response:
    return await _signed_in(request, "wallboard.html")


@router.get("/campaigns")
async def campaigns_page(request: Request) -> Response:
    """The supervisor's campaign monitor: progress, attempts by outcome, abandonment against its target."""
    return await _signed_in(request, "campaigns.html")


@router.get("/admin")
async def admin_home(request: Request) -> Response:
    """The first screen this user may use (a supervisor: do-not-call); none: the queues' "you may not" page."""
    me = await viewer(request)
    permissions = set(me["permissions"]) if me else set()
    allowed = [r["key"] for r in RESOURCES if r["permission"] in permissions]
    allowed += ["audit-log"] if "audit.read" in permissions else []
    return RedirectResponse(f"/admin/{(allowed or ['queues'])[0]}", status_code=303)


@router.get("/admin/{resource}")
async def admin_page(request: Request, resource: str) -> Response:
    me = await viewer(request)
    if me is None:
        return _login_redirect(request)
    if resource != "audit-log" and resource not in BY_KEY:
        raise NotFound(f"no administration screen '{resource}'")
    permissions = set(me["permissions"])
    needed = "audit.read" if resource == "audit-log" else BY_KEY[resource]["permission"]
    # a user without this screen's right sees why, not an empty page (the API refuses them anyway)
    return render(request, "admin.html", me, resource=resource, resources=RESOURCES, denied=needed not in permissions)


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])  # HEAD: is phone.js there?
async def static_file(path: str) -> Response:
    """The interface's own scripts and style (and the browser phone); never anything outside static/."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file():
        raise NotFound(f"no static file '{path}'")
    return FileResponse(target, headers={"Cache-Control": "no-cache"})
