"""Blended capacity: chats from every text channel beside at most one call."""

from __future__ import annotations

import pytest
from routing_harness import Harness, moves, of_type, offers

from teleplex.routing import (
    ChannelNotAccepted,
    OfferTimedOut,
    Presence,
    QueueSpec,
    UnknownChannel,
    WorkItem,
)

P = Presence


def test_chat_capacity_three_and_voice_one(h: Harness) -> None:
    h.queue(offer_chats_during_call=True)
    h.agent("alice", capacity={"voice": 1, "chat": 3})
    routed = []
    for n, channel in enumerate(["whatsapp", "telegram", "sms", "webchat"]):
        routed += offers(h.item(f"m{n}", channel=channel))
    assert routed == [("m0", "alice"), ("m1", "alice"), ("m2", "alice")]
    assert offers(h.item("c1", channel="voice")) == [("c1", "alice")]
    assert offers(h.item("c2", channel="voice")) == []
    snap = h.router.snapshot().agents[0]
    assert snap.load == {"chat": 3, "voice": 1}
    assert snap.state is P.RINGING


def test_chat_slot_frees_when_the_chat_ends(h: Harness) -> None:
    h.queue()
    h.agent("alice", capacity={"chat": 1})
    h.item("m1", channel="webchat")
    h.router.offer_accepted("m1", "alice")
    h.item("m2", channel="webchat")
    assert offers(h.router.interaction_ended("m1")) == [("m2", "alice")]


def test_chat_wrapup_holds_one_slot_only(h: Harness) -> None:
    h.queue(wrapup_s=20)
    h.agent("alice", capacity={"chat": 2})
    h.item("m1", channel="whatsapp")
    h.item("m2", channel="whatsapp")
    h.router.offer_accepted("m1", "alice")
    h.router.offer_accepted("m2", "alice")
    out = h.router.interaction_ended("m1")
    assert moves(out, "alice") == []  # still busy with m2
    h.item("m3", channel="whatsapp")
    assert h.router.snapshot().queues[0].waiting == 1
    out = h.router.interaction_ended("m2")
    assert moves(out, "alice") == [(P.BUSY, P.WRAP_UP)]
    assert offers(h.router.end_wrapup("alice", "m1")) == [("m3", "alice")]


def test_chats_not_offered_during_call_when_queue_says_so(h: Harness) -> None:
    h.queue("phone")
    h.queue("chat", offer_chats_during_call=False, wrapup_s=0)
    h.agent("alice", ["phone", "chat"])
    h.item("c1", "phone")
    assert offers(h.item("m1", "chat", channel="telegram")) == []  # ringing counts as on a call
    h.router.offer_accepted("c1", "alice")
    assert offers(h.advance(1)) == []
    assert offers(h.router.interaction_ended("c1")) == [("m1", "alice")]


def test_chats_offered_during_call_when_queue_allows(h: Harness) -> None:
    h.queue("phone")
    h.queue("chat", offer_chats_during_call=True)
    h.agent("alice", ["phone", "chat"])
    h.item("c1", "phone")
    h.router.offer_accepted("c1", "alice")
    assert offers(h.item("m1", "chat", channel="sms")) == [("m1", "alice")]
    assert h.state("alice") == P.ON_CALL


def test_call_rings_an_agent_who_has_open_chats(h: Harness) -> None:
    h.queue()
    h.agent("alice")
    h.item("m1", channel="webchat")
    h.router.offer_accepted("m1", "alice")
    assert h.state("alice") == P.BUSY
    out = h.item("c1")
    assert offers(out) == [("c1", "alice")]
    assert moves(out, "alice") == [(P.BUSY, P.RINGING)]


def test_unanswered_chat_offer_moves_on_without_missed_pause(h: Harness) -> None:
    h.queue(offer_timeout_s=30)
    h.agent("alice")
    h.agent("bob")
    h.item("m1", channel="webchat")
    out = h.advance(30)
    assert of_type(out, OfferTimedOut)[0].agent_id == "alice"
    assert offers(out) == [("m1", "bob")]
    assert moves(out, "alice") == [(P.BUSY, P.READY)]


def test_channel_classes_are_explicit(h: Harness) -> None:
    h.queue("voice-only", channels={"voice"})
    with pytest.raises(ChannelNotAccepted):
        h.item("m1", "voice-only", channel="webchat")
    with pytest.raises(UnknownChannel):
        h.router.configure_queue(QueueSpec(id="mail", channels=frozenset({"email"})))


def test_extra_channel_with_its_own_capacity_class() -> None:
    h = Harness(capacity_classes={"voice": "voice", "email": "email"})
    h.queue(channels={"email", "voice"})
    h.agent("alice", capacity={"voice": 1, "email": 5})
    got = [offers(h.item(f"e{n}", channel="email")) for n in range(6)]
    assert sum(len(o) for o in got) == 5
    assert h.router.capacity_class("email") == "email"


def test_enqueue_refuses_a_duplicate_id(h: Harness) -> None:
    from teleplex.routing import DuplicateItem

    h.queue()
    h.item("m1", channel="sms")
    with pytest.raises(DuplicateItem):
        h.router.enqueue(WorkItem(id="m1", queue_id="sales", channel="sms", arrived_at=h.at(0)))
