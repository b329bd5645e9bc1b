"""The FastAPI application: one factory that wires settings, database, clock and every capability's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from teleplex import __version__
from teleplex.audit.api import router as audit_router
from teleplex.auth.api import router as auth_router
from teleplex.campaigns.api import router as campaigns_router
from teleplex.campaigns.dial_api import router as dialing_router
from teleplex.campaigns.form_api import router as campaign_form_router
from teleplex.campaigns.live import CampaignDialer
from teleplex.campaigns.progress_events import CampaignProgressNotifier
from teleplex.center.api import router as center_router
from teleplex.contacts.api import router as contacts_router
from teleplex.core.clock import Clock, SystemClock
from teleplex.core.db import Database
from teleplex.core.events import EventBus
from teleplex.core.http import RequestContextMiddleware, install_error_handlers
from teleplex.core.schemas import ErrorBody
from teleplex.core.settings import Settings
from teleplex.engine.api import router as engine_router
from teleplex.engine.chat import ChatChannel
from teleplex.engine.conversation_sink import ConversationSink
from teleplex.engine.engine import Engine
from teleplex.engine.stream import router as stream_router
from teleplex.interactions.agent_day_api import router as agent_day_router
from teleplex.interactions.api import router as interactions_router
from teleplex.interactions.conversations_api import router as conversations_router
from teleplex.interactions.screen_pop_api import router as screen_pop_router
from teleplex.messaging.api import router as messaging_router
from teleplex.messaging.api import webhooks as messaging_webhooks
from teleplex.messaging.runtime import runtime_for
from teleplex.messaging.webchat.api import public as webchat_public
from teleplex.messaging.webchat.api import router as webchat_router
from teleplex.ops.api import router as ops_router
from teleplex.voice.api import router as calls_router
from teleplex.voice.calls import VoiceChannel
from teleplex.web.pages import router as web_router
from teleplex.voice.webrtc import router as webrtc_router

DESCRIPTION = """Teleplex is a multichannel contact center on Asterisk.

Authenticate with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`; integrations use an
API key the same way. Every error has the shape `{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: Settings, clock: Clock | None = None, db: Database | None = None) -> FastAPI:
    """Build the application; tests pass their own clock and database."""
    database = db or Database(settings.database_url)

    bus = EventBus()
    engine = Engine(database, clock or SystemClock(), bus)
    chat = ChatChannel(engine)  # conversations on the text channels, routed like calls

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        voice = VoiceChannel(engine, settings) if settings.ari_url else None
        await engine.start()
        await chat.restore()
        if voice is not None:
            await voice.start()
            app.state.dialer = CampaignDialer(engine, voice, settings)
            engine.spawn(app.state.dialer.run(), "campaign-dialer")
        messaging = runtime_for(app) if settings.messaging_workers else None
        if messaging is not None:
            await messaging.start()
        try:
            yield
        finally:
            if messaging is not None:
                await messaging.stop()
            await engine.stop()
            if voice is not None:
                await voice.close()
            if db is None:
                await database.dispose()

    app = FastAPI(
        title="Teleplex",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # documented once for every route, replacing FastAPI's default {"detail": [...]} which we never send
        responses={422: {"model": ErrorBody, "description": "Invalid input; `details` names each field"}},
    )
    app.state.settings = settings
    app.state.clock = engine.clock
    app.state.chat = chat
    app.state.message_sink = ConversationSink(chat, settings)
    app.state.db = database
    app.state.bus = bus
    app.state.engine = engine
    app.state.dialer = None  # the campaign dialer, when voice is on
    app.state.campaign_progress = CampaignProgressNotifier(engine, lambda: app.state.dialer)  # campaign.progress
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    # A request is matched against the routes in this order, one by one (about 300 of them): the paths that
    # take the most requests (providers' webhooks, the chat widget, the event stream) come first. None of
    # their paths overlaps another router's.
    for router in (messaging_webhooks, webchat_public, stream_router, ops_router, auth_router, center_router,
                   audit_router, engine_router, interactions_router, calls_router, conversations_router,
                   campaigns_router, messaging_router, webchat_router, contacts_router, webrtc_router, dialing_router,
                   screen_pop_router, agent_day_router, campaign_form_router):
        app.include_router(router)
    app.include_router(web_router)  # the web interface's pages, last: its "/" and "/static" claim no API path
    return app
