"""Delivery statuses only move forward, whatever order the provider's callbacks arrive in."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # ours: persisted, not yet accepted by the provider
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"  # a voice note was listened to: beyond read
    FAILED = "failed"
    RECEIVED = "received"  # inbound messages


_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.PLAYED: 4,
}

# Provider words for the same steps (Twilio says "undelivered", "queued", "accepted"...).
ALIASES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.PLAYED,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def normalise(word: str) -> DeliveryStatus | None:
    """The status a provider's word means; None for words we do not track."""
    return ALIASES.get(word.strip().lower())


def merge(current: DeliveryStatus | str | None, incoming: DeliveryStatus | str) -> DeliveryStatus:
    """The status after `incoming` arrives: never backwards.

    `failed` wins over sent (the provider gave up) but not over delivered/read, which prove the message
    arrived; and once failed, only a later `delivered`/`read`/`played` (proof of arrival) moves it on.
    """
    new = DeliveryStatus(incoming)
    if current is None:
        return new
    cur = DeliveryStatus(current)
    if cur is DeliveryStatus.RECEIVED or new is DeliveryStatus.RECEIVED:
        return cur
    if new is DeliveryStatus.FAILED:
        return cur if _RANK.get(cur, -1) >= _RANK[DeliveryStatus.DELIVERED] else new
    if cur is DeliveryStatus.FAILED:
        return new if _RANK[new] >= _RANK[DeliveryStatus.DELIVERED] else cur
    return new if _RANK[new] > _RANK[cur] else cur
