"""The router's vocabulary as plain data, so facts and decisions can be logged, stored and replayed.

Specs describe queues and agents, a `WorkItem` is what waits in a queue, and every
`Decision` is a frozen dataclass the engine turns into I/O. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

VOICE = "voice"
"""The capacity class with telephone semantics: offers ring a device, one outstanding offer at a time."""

CHAT = "chat"
"""The capacity class shared by every text channel unless the router is told otherwise."""

DEFAULT_CAPACITY_CLASSES: Mapping[str, str] = MappingProxyType(
    {
        "voice": VOICE,
        "chat": CHAT,
        "whatsapp": CHAT,
        "telegram": CHAT,
        "sms": CHAT,
        "webchat": CHAT,
    }
)
"""Which capacity class each channel kind draws from; a channel missing here is refused, not guessed."""

DEFAULT_AGENT_CAPACITY: Mapping[str, int] = MappingProxyType({VOICE: 1, CHAT: 3})
"""One call and three chats at once: the usual blended-agent setting."""

MIN_SKILL_LEVEL = 1
MAX_SKILL_LEVEL = 10


class RoutingError(Exception):
    """Base class so the engine can catch every refusal of the router in one place."""


class InvalidSpec(RoutingError, ValueError):
    """A queue or agent spec is inconsistent; raised before anything changes."""


class QueueNotFound(RoutingError):
    """A fact named a queue the router does not know."""


class QueueNotEmpty(RoutingError):
    """A queue cannot be removed while items wait in it or are being offered from it."""


class AgentNotFound(RoutingError):
    """A fact named an agent who is not logged in."""


class AgentBusy(RoutingError):
    """An agent cannot log out while holding accepted interactions."""


class ItemNotFound(RoutingError):
    """A fact named an item the router does not hold."""


class DuplicateItem(RoutingError):
    """An item id is already held by the router; ids must be unique while routed."""


class ItemNotConnected(RoutingError):
    """The fact needs an item that an agent has accepted."""


class OfferNotFound(RoutingError):
    """The item is not currently offered to that agent (too late, or never offered)."""


class UnknownChannel(RoutingError):
    """A channel kind has no capacity class in the router's mapping."""


class ChannelNotAccepted(RoutingError):
    """The queue does not take items of this channel kind."""


class InvalidTransition(RoutingError):
    """A presence move is not in the table of allowed moves."""


class Strategy(StrEnum):
    """How a queue orders the free agents who match an item."""

    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_INTERACTIONS = "fewest_interactions"
    SKILLS_WEIGHTED = "skills_weighted"


class Presence(StrEnum):
    """What an agent is doing, as supervisors and reports see it."""

    LOGGED_OUT = "logged_out"
    READY = "ready"
    PAUSED = "paused"
    RINGING = "ringing"
    ON_CALL = "on_call"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


class ItemState(StrEnum):
    """Where an item is in its short life inside the router."""

    WAITING = "waiting"
    OFFERED = "offered"
    CONNECTED = "connected"


def _check_skills(owner: str, skills: Mapping[str, int]) -> None:
    for name, level in skills.items():
        if not name:
            raise InvalidSpec(f"{owner}: a skill needs a name")
        if not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
            raise InvalidSpec(f"{owner}: skill {name!r} level {level} is outside 1..10")


def _frozen(mapping: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True, eq=False)
class QueueSpec:
    """A queue's configuration, validated once so routing code can trust it.

    `overflow_target` is opaque to the router: it is handed back in `Overflow`.
    `missed_pause=None` means "use the router's default".
    `aging_s`: an item gains one priority level per `aging_s` seconds waited (None: no aging).
    """

    id: str
    channels: frozenset[str]
    strategy: Strategy = Strategy.LONGEST_IDLE
    required_skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    offer_timeout_s: float = 20.0
    wrapup_s: float = 0.0
    max_wait_s: float | None = None
    overflow_target: object | None = None
    offer_chats_during_call: bool = False
    missed_pause: bool | None = None
    aging_s: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidSpec("a queue needs an id")
        object.__setattr__(self, "channels", frozenset(self.channels))
        object.__setattr__(self, "strategy", Strategy(self.strategy))
        if not self.channels:
            raise InvalidSpec(f"queue {self.id!r} accepts no channel")
        _check_skills(f"queue {self.id!r}", self.required_skills)
        object.__setattr__(self, "required_skills", _frozen(self.required_skills))
        if self.offer_timeout_s <= 0:
            raise InvalidSpec(f"queue {self.id!r}: offer_timeout_s must be positive")
        if self.wrapup_s < 0:
            raise InvalidSpec(f"queue {self.id!r}: wrapup_s cannot be negative")
        if self.max_wait_s is not None and self.max_wait_s < 0:
            raise InvalidSpec(f"queue {self.id!r}: max_wait_s cannot be negative")
        if self.aging_s is not None and self.aging_s <= 0:
            raise InvalidSpec(f"queue {self.id!r}: aging_s must be positive")


@dataclass(frozen=True, eq=False)
class AgentSpec:
    """Who an agent is for routing: skills, capacity per class, and queues with penalties.

    `queues` maps queue id to penalty (0 is best; see docs/routing.md for the tiers).
    `device` is opaque (the engine rings it); the router only carries it.
    """

    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_AGENT_CAPACITY))
    queues: Mapping[str, int] = field(default_factory=dict)
    device: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidSpec("an agent needs an id")
        _check_skills(f"agent {self.id!r}", self.skills)
        for cls, amount in self.capacity.items():
            if amount < 0:
                raise InvalidSpec(f"agent {self.id!r}: capacity for {cls!r} cannot be negative")
        for queue_id, penalty in self.queues.items():
            if penalty < 0:
                raise InvalidSpec(f"agent {self.id!r}: penalty in {queue_id!r} cannot be negative")
        object.__setattr__(self, "skills", _frozen(self.skills))
        object.__setattr__(self, "capacity", _frozen(self.capacity))
        object.__setattr__(self, "queues", _frozen(self.queues))


@dataclass(frozen=True, eq=False)
class WorkItem:
    """A call or conversation asking for an agent, as the router needs to see it.

    `arrived_at` is when the customer started waiting (kept across transfers and
    re-enqueues after overflow, so ordering credits the whole wait). `required_skills`,
    when given, replaces the queue's requirement for this item.
    """

    id: str
    queue_id: str
    channel: str
    arrived_at: datetime
    priority_bump: int = 0
    required_skills: Mapping[str, int] | None = None
    target_agent: str | None = None  # offered to this agent only (membership and skills do not apply)
    target_only: bool = False  # and stays theirs if they miss it (a consult), instead of going to the queue

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidSpec("an item needs an id")
        if self.required_skills is not None:
            _check_skills(f"item {self.id!r}", self.required_skills)
            object.__setattr__(self, "required_skills", _frozen(self.required_skills))


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """Present the item to the agent: ring their device for voice, notify the console otherwise."""

    item_id: str
    agent_id: str
    queue_id: str
    channel: str
    timeout_s: float
    deadline: datetime
    at: datetime


@dataclass(frozen=True)
class OfferTimedOut:
    """The agent did not accept in time: stop ringing; the item waits again."""

    item_id: str
    agent_id: str
    queue_id: str
    at: datetime


@dataclass(frozen=True)
class OfferRescinded:
    """The offer is void for a reason other than the agent's answer: stop ringing / hide the notice."""

    item_id: str
    agent_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Overflow:
    """The item waited past its queue's max wait; the router has dropped it, the engine sends it on."""

    item_id: str
    queue_id: str
    target: object | None
    at: datetime


@dataclass(frozen=True)
class AgentStateChanged:
    """An agent's presence moved; stored with its timestamp for reports and wallboards.

    `reason` is the fact that caused the move (`login`, `offer`, `accepted`, `timed_out`...);
    `pause_reason` is set whenever `new` is PAUSED.
    """

    agent_id: str
    old: Presence
    new: Presence
    reason: str
    at: datetime
    pause_reason: str | None = None


@dataclass(frozen=True)
class WrapUpEnded:
    """The after-interaction work for one item is over; `early` when the agent ended it."""

    agent_id: str
    item_id: str
    early: bool
    at: datetime


@dataclass(frozen=True)
class PauseExceeded:
    """An agent has been paused longer than the reason allows; sent once per pause."""

    agent_id: str
    reason: str
    limit_s: float
    at: datetime


Decision = Offer | OfferTimedOut | OfferRescinded | Overflow | AgentStateChanged | WrapUpEnded | PauseExceeded
"""Everything the router can ask of the engine."""


# --- snapshot --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSnapshot:
    """One item as supervision and tests see it."""

    item_id: str
    queue_id: str
    channel: str
    state: ItemState
    arrived_at: datetime
    queued_at: datetime
    wait_s: float
    agent_id: str | None
    declined_by: tuple[tuple[str, int, datetime], ...]
    """(agent id, times declined or missed, not re-offered to that agent before this time)."""
    target_agent: str | None = None
    """Set while a transfer by name waits for that one agent."""


@dataclass(frozen=True)
class QueueSnapshot:
    """A queue's live figures for a wallboard."""

    queue_id: str
    waiting: int
    offered: int
    connected: int
    longest_wait_s: float


@dataclass(frozen=True)
class AgentSnapshot:
    """An agent's live state and the routing inputs the strategies read."""

    agent_id: str
    state: Presence
    since: datetime
    time_in_state_s: float
    pause_reason: str | None
    pause_wanted: bool
    offers: tuple[str, ...]
    interactions: tuple[str, ...]
    wrapups: tuple[str, ...]
    load: Mapping[str, int]
    idle_since: Mapping[str, datetime]
    handled: Mapping[str, int]
    device: str | None


@dataclass(frozen=True)
class RouterSnapshot:
    """Everything a supervisor screen needs, as plain data taken at `at`."""

    at: datetime
    queues: tuple[QueueSnapshot, ...]
    agents: tuple[AgentSnapshot, ...]
    items: tuple[ItemSnapshot, ...]
