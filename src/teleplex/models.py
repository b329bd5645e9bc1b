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
from teleplex.campaigns.models import Callback
from teleplex.contacts.models import Contact, ContactIdentity
from teleplex.interactions.models import AgentStateChange, Interaction, InteractionEvent
from teleplex.core.db import Base
from teleplex.engine.models import AgentSession

__all__ = [
    "Agent",
    "AgentQueue",
    "AgentSession",
    "AgentStateChange",
    "Contact",
    "ContactIdentity",
    "Interaction",
    "InteractionEvent",
    "ApiKey",
    "AuditEntry",
    "AuthToken",
    "Callback",
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
