"""What each administration screen edits: the API path and schemas; the forms themselves are built from the
API's OpenAPI description, so a field added to the API appears on its screen without a change here."""

from __future__ import annotations

from typing import Any

# `refs` says which resource an id field points to, so the form offers names instead of numbers.
RESOURCES: list[dict[str, Any]] = [
    {"key": "queues", "path": "/api/v1/queues", "create": "QueueCreate", "update": "QueueUpdate",
     "columns": ["id", "name", "channels", "strategy", "service_level_seconds"], "label": "name",
     "refs": {"business_hours_id": "business-hours", "disposition_ids": "dispositions"},
     "permission": "queues.write"},
    {"key": "agents", "path": "/api/v1/agents", "create": "AgentCreate", "update": "AgentUpdate",
     "columns": ["id", "number", "display_name", "device", "answer_mode"], "label": "display_name",
     "refs": {"user_id": "users", "queue_id": "queues"}, "permission": "agents.write"},
    {"key": "users", "path": "/api/v1/users", "create": "UserCreate", "update": "UserUpdate",
     "columns": ["id", "username", "display_name", "roles", "language", "enabled"], "label": "username",
     "refs": {"supervised_queue_ids": "queues"}, "permission": "users.write"},
    {"key": "pause-reasons", "path": "/api/v1/pause-reasons", "create": "PauseReasonCreate",
     "update": "PauseReasonUpdate", "columns": ["id", "name", "paid", "max_duration_seconds"], "label": "name",
     "refs": {}, "permission": "pause_reasons.write"},
    {"key": "dispositions", "path": "/api/v1/dispositions", "create": "DispositionCreate",
     "update": "DispositionUpdate", "columns": ["id", "code", "label", "category"], "label": "label",
     "refs": {}, "permission": "dispositions.write"},
    {"key": "business-hours", "path": "/api/v1/business-hours", "create": "BusinessHoursCreate",
     "update": "BusinessHoursUpdate", "columns": ["id", "name", "timezone"], "label": "name",
     "refs": {}, "permission": "business_hours.write"},
    {"key": "canned-responses", "path": "/api/v1/canned-responses", "create": "CannedFields",
     "update": "CannedUpdate", "columns": ["id", "shortcut", "title", "queue_id"], "label": "title",
     "refs": {"queue_id": "queues"}, "permission": "queues.write", "no_get": True},
    {"key": "channels", "path": "/api/v1/channels", "create": "ChannelCreate", "update": "ChannelUpdate",
     "columns": ["id", "kind", "name", "enabled"], "label": "name", "refs": {}, "permission": "channels.write"},
    {"key": "campaigns", "path": "/api/v1/campaigns", "create": "CampaignCreate", "update": "CampaignUpdate",
     "columns": ["id", "name", "state", "dial_mode"], "label": "name", "refs": {"queue_id": "queues"},
     "permission": "campaigns.write"},
    {"key": "dnc", "path": "/api/v1/dnc", "create": "DncCreate", "update": None,
     "columns": ["id", "number", "campaign_id", "reason"], "label": "number", "refs": {"campaign_id": "campaigns"},
     "permission": "dnc.write", "no_get": True},
]

BY_KEY = {r["key"]: r for r in RESOURCES}

