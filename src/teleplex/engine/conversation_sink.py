"""Where a customer's message goes once messaging has verified and stored it: their profile, their
conversation, and the router.

It runs inside the transaction that stores the message (see messaging/ingest.py), so the conversation and
the message commit together, exactly once. Routing waits for the commit: a conversation that was opened or
reopened is handed to the engine when its record is there to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.campaigns import dnc_service
from teleplex.contacts.graph import resolve_identity
from teleplex.contacts.identities import InvalidIdentity
from teleplex.contacts.models import Contact
from teleplex.core.db import after_commit
from teleplex.core.logging import get_logger
from teleplex.core.settings import Settings
from teleplex.engine.chat import ChatChannel, queue_for_channel
from teleplex.interactions import conversations
from teleplex.interactions.models import Interaction
from teleplex.messaging.keywords import Keyword
from teleplex.messaging.models import Channel, Message
from teleplex.messaging.providers.base import IdentityKind, InboundMessage, StatusUpdate

log = get_logger("teleplex.conversations")

# messaging's channel kinds -> the interaction and router channel names
CHANNEL_NAMES = {"whatsapp": "whatsapp", "telegram": "telegram", "sms_twilio": "sms", "webchat": "webchat"}
STATUS_EVENT = "conversation.message_status"  # one event type for every channel's delivery and read receipts


class ConversationSink:
    """The core's MessageSink: every inbound message joins a conversation that the router routes."""

    def __init__(self, chat: ChatChannel, settings: Settings) -> None:
        self.chat = chat
        self.settings = settings

    async def place(self, session: AsyncSession, channel: Channel,
                    items: Sequence[tuple[Message, InboundMessage]]) -> None:  # fmt: skip
        """Each message's conversation (opened, reopened or appended to), set on the message before it is
        written; the stream hears of it, and a new or reopened conversation is routed, once it commits. The
        customers' open conversations are found and noted in one statement for the whole batch."""
        engine = self.chat.engine
        now = engine.clock.now()
        name = CHANNEL_NAMES.get(channel.kind, channel.kind)
        for _, inbound in items:
            await self._opt_out(session, now, inbound)
        peers = {message.peer for message, inbound in items if not inbound.contacts}
        touched = await conversations.touch_open(session, channel.id, peers, now)
        for message, inbound in items:
            row = None if inbound.contacts else touched.get(message.peer)
            if row is not None:  # most messages: the profile was settled when the conversation opened
                how = conversations.APPENDED
                routed = (row.id, row.queue_id, name, row.arrived_at, row.first_response_at is None)
                queue_id, agent_id = row.queue_id, row.agent_id
            else:
                found = await self._conversation(session, now, channel, name, message, inbound)
                if found is None:
                    continue
                conversation, how = found
                routed = (conversation.id, conversation.queue_id, name, conversation.arrived_at,
                          conversation.first_response_at is None)  # fmt: skip
                queue_id, agent_id = conversation.queue_id, conversation.agent_id
            message.interaction_id = routed[0]
            self._announce(session, message, how, routed, queue_id, agent_id, now)

    async def _conversation(self, session: AsyncSession, now: datetime, channel: Channel, name: str,
                            message: Message, inbound: InboundMessage) -> tuple[Interaction, str] | None:  # fmt: skip
        """The full path: the customer's latest conversation, their profile, the queue; None when no queue
        takes this channel's conversations (the message is stored only)."""
        last = await conversations.latest(session, channel.id, message.peer)
        current = conversations.open_one(last)
        contact = await self._contact(session, now, inbound)
        queue_id = current.queue_id if current is not None else None
        queue_id = queue_id or await queue_for_channel(session, channel.settings, name)
        if queue_id is None:
            log.warning("no queue takes this channel's conversations; message stored only", channel_id=channel.id)
            return None
        return await conversations.conversation_for(
            session, now, last, channel_id=channel.id, channel=name, peer=message.peer, queue_id=queue_id,
            contact_id=contact.id if contact else None, name=inbound.profile_name,
            reopen_within=timedelta(minutes=self.settings.conversation_reopen_minutes),
        )  # fmt: skip

    def _announce(self, session: AsyncSession, message: Message, how: str, routed: tuple[Any, ...],
                  queue_id: int | None, agent_id: int | None, now: datetime) -> None:  # fmt: skip
        """Once the transaction commits: the message on the stream (to its agent and the queue's supervisors),
        and a new or reopened conversation to the router (core.db.after_commit: one listener for them all)."""
        engine = self.chat.engine

        def publish() -> None:
            data = {"interaction_id": routed[0], "message_id": message.id, "channel": routed[2],
                    "kind": message.kind, "text": message.text, "queue_id": queue_id, "agent_id": agent_id}  # fmt: skip
            engine.publish("conversation.message", now, data, queue_id=queue_id, agent_id=agent_id, private=True)
            if how != conversations.APPENDED:
                engine.spawn(self.chat.arrived(*routed), f"route-conversation-{routed[0]}")

        after_commit(session, publish)

    async def received(self, session: AsyncSession, channel: Channel, message: Message,
                       inbound: InboundMessage) -> None:  # fmt: skip
        """Nothing more once the message is written: `place` did the conversation, and the stream waits for
        the commit."""
        return None

    async def status_changed(self, session: AsyncSession, channel: Channel, message: Message,
                             update: StatusUpdate) -> None:  # fmt: skip
        """An outgoing message moved forward (sent, delivered, read, failed), on any channel: the agent holding
        the conversation and its queue's supervisors see it on the stream as `conversation.message_status`."""
        if message.interaction_id is None:
            return
        engine = self.chat.engine
        conversation = await session.get(Interaction, message.interaction_id)
        queue_id = conversation.queue_id if conversation is not None else None
        agent_id = conversation.agent_id if conversation is not None else None
        data = {"interaction_id": message.interaction_id, "message_id": message.id, "status": message.status,
                "channel": CHANNEL_NAMES.get(channel.kind, channel.kind),
                "at": message.status_at.isoformat() if message.status_at else None,
                "error_code": message.error_code, "error_message": message.error_message}  # fmt: skip
        at = engine.clock.now()
        after_commit(session, lambda: engine.publish(STATUS_EVENT, at, data, queue_id=queue_id, agent_id=agent_id,
                                                     private=True))  # fmt: skip

    async def _contact(self, session: AsyncSession, now: Any, inbound: InboundMessage) -> Contact | None:
        """The customer's profile (contacts/graph.py decides): every identity the provider revealed is resolved,
        a WhatsApp id carrying its phone so calls and chats meet; a phone the customer shared on Telegram
        links only when it is provably theirs, else it is a suggestion for a person to decide."""
        region = self.settings.phone_region
        wa_id = next((i.value for i in inbound.identities if i.kind is IdentityKind.WHATSAPP), None)
        contact: Contact | None = None
        try:
            for identity in (inbound.sender, *(i for i in inbound.identities if i != inbound.sender)):
                phone = wa_id if identity.kind is IdentityKind.WHATSAPP_USER else None
                found = await resolve_identity(session, now, str(identity.kind), identity.value,
                                               display_name=inbound.profile_name, phone=phone, region=region,
                                               source="channel")  # fmt: skip
                contact = contact or found
            for shared in inbound.contacts:
                if inbound.sender.kind is IdentityKind.TELEGRAM:
                    contact = await resolve_identity(session, now, "telegram", inbound.sender.value,
                                                     phone=shared.phone, trusted=shared.trusted, region=region,
                                                     source="telegram_shared_contact")  # fmt: skip
        except InvalidIdentity as exc:  # an id we cannot store: route the message anyway, without a profile
            log.warning("sender identity not usable", kind=str(inbound.sender.kind), error=str(exc))
        return contact

    async def _opt_out(self, session: AsyncSession, now: Any, inbound: InboundMessage) -> None:
        """SMS STOP puts the number on the do-not-call list; START takes it off again."""
        if inbound.keyword not in (Keyword.STOP, Keyword.START):
            return
        number = next((i.value for i in inbound.identities if i.kind is IdentityKind.PHONE), None)
        if number is None:
            return
        if inbound.keyword is Keyword.STOP:
            await dnc_service.add_opt_out(session, number, dnc_service.SMS_STOP, now)
        else:
            await dnc_service.remove_opt_out(session, number, dnc_service.SMS_STOP)

