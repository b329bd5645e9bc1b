"""Agent presence as one explicit table, so every state change can be checked and explained.

An agent's presence is derived from what they hold (offers, interactions, wrap-ups)
and what they asked for (pause or not), with a fixed precedence. Every move the
router makes is checked against `ALLOWED_MOVES`; a move outside the table is a bug
(or a refused request) and raises `InvalidTransition`.
"""

from __future__ import annotations

from collections.abc import Mapping

from teleplex.routing.model import InvalidTransition, Presence

P = Presence

ALLOWED_MOVES: Mapping[Presence, frozenset[Presence]] = {
    # login lands in ready or paused; nothing else leaves logged_out
    P.LOGGED_OUT: frozenset({P.READY, P.PAUSED}),
    # a free agent is offered work, pauses, or leaves; on_call only when a restart resumes a call
    P.READY: frozenset({P.RINGING, P.BUSY, P.PAUSED, P.LOGGED_OUT, P.ON_CALL}),
    # paused agents get no offers; paused -> paused is a change of reason; on_call/busy only when a
    # restart resumes interactions that went on while the engine was down
    P.PAUSED: frozenset({P.READY, P.PAUSED, P.LOGGED_OUT, P.ON_CALL, P.BUSY}),
    # a ringing phone is answered, or the offer ends (declined, timed out, rescinded)
    P.RINGING: frozenset({P.ON_CALL, P.READY, P.PAUSED, P.BUSY, P.WRAP_UP, P.LOGGED_OUT}),
    # a call ends (into wrap-up, or straight on); ringing only with voice capacity > 1
    P.ON_CALL: frozenset({P.WRAP_UP, P.READY, P.PAUSED, P.BUSY, P.RINGING}),
    # chats come and go; a call offer rings over them
    P.BUSY: frozenset({P.RINGING, P.READY, P.PAUSED, P.WRAP_UP, P.LOGGED_OUT}),
    # wrap-up ends (timer or agent), or new work arrives in a class still free
    P.WRAP_UP: frozenset({P.READY, P.PAUSED, P.RINGING, P.BUSY, P.LOGGED_OUT}),
}
"""old state -> allowed new states. Staying put is not a move, except paused -> paused (new reason)."""


def check_move(old: Presence, new: Presence) -> None:
    """Refuse a move that the table does not allow, naming both ends so the log explains it."""
    if new not in ALLOWED_MOVES[old]:
        raise InvalidTransition(f"presence cannot move from {old} to {new}")


def derive_presence(
    *,
    logged_in: bool,
    voice_offers: int,
    calls: int,
    other_work: int,
    wrapups: int,
    pause_wanted: bool,
) -> Presence:
    """Name the agent's presence from what they hold, the most demanding activity first.

    Precedence: ringing > on call > busy (chats offered or open) > wrap-up > paused > ready.
    A wanted pause shows only once the agent holds nothing; until then it only stops new offers.
    """
    if not logged_in:
        return P.LOGGED_OUT
    if voice_offers:
        return P.RINGING
    if calls:
        return P.ON_CALL
    if other_work:
        return P.BUSY
    if wrapups:
        return P.WRAP_UP
    if pause_wanted:
        return P.PAUSED
    return P.READY
