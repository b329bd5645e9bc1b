"""Every table, imported in one place so migrations and tests see the whole schema."""

from teleplex.audit.models import AuditEntry
from teleplex.auth.models import ApiKey, AuthToken, LoginFailure, SupervisorQueue, User
from teleplex.center.models import (
    Agent,
    AgentQueue,
    BusinessHours,
    Disposition,
    PauseReason,
    Queue,
    QueueDid,
    QueueDisposition,
)
from teleplex.campaigns.models import (  # noqa: F401 - registered for migrations and tests
    Attempt,
    Callback,
    Campaign,
    CampaignAgent,
    CampaignDisposition,
    CampaignList,
    DncEntry,
    Lead,
)
from teleplex.contacts.models import (  # noqa: F401 - registered for migrations and tests
    Contact,
    ContactFieldDefinition,
    ContactFieldValue,
    ContactIdentity,
    ContactMerge,
    ContactNote,
    ContactSuggestion,
    ContactTag,
)
from teleplex.interactions.models import AgentStateChange, CannedResponse, Interaction, InteractionEvent
from teleplex.core.db import Base
from teleplex.core.ids import IdCounter
from teleplex.engine.models import AgentSession
from teleplex.messaging.models import Channel, InboundEvent, Message, OutboxItem  # noqa: F401
from teleplex.messaging.webchat.models import WebchatEvent, WebchatVisitor, WebchatWidget  # noqa: F401

__all__ = [
    "Agent",
    "AgentQueue",
    "AgentSession",
    "AgentStateChange",
    "Contact",
    "ContactIdentity",
    "IdCounter",
    "Interaction",
    "InteractionEvent",
    "ApiKey",
    "AuditEntry",
    "AuthToken",
    "Callback",
    "CannedResponse",
    "Base",
    "BusinessHours",
    "Disposition",
    "LoginFailure",
    "PauseReason",
    "Queue",
    "QueueDid",
    "QueueDisposition",
    "SupervisorQueue",
    "User",
]
