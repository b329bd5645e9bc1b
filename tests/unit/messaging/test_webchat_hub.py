"""The visitors' hub: a committed event reaches every socket of its visitor (and no other), and a socket that
fell behind is told to read the database instead of losing the event."""

from __future__ import annotations

from teleplex.messaging.webchat.hub import Appended, Hub


def _drain(queue) -> list:  # noqa: ANN001
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_an_appended_event_reaches_every_socket_of_its_visitor_only() -> None:
    hub = Hub()
    first, second, other = hub.listen(7), hub.listen(7), hub.listen(8)
    assert hub.appended(7, 3, {"type": "message", "id": 3}) == 2
    assert _drain(first) == _drain(second) == [Appended(3, {"type": "message", "id": 3})]
    assert _drain(other) == []


def test_a_socket_that_fell_behind_gets_a_database_read_in_place_of_its_oldest_wakeup() -> None:
    hub = Hub()
    slow = hub.listen(7)
    for n in range(slow.maxsize):
        hub.poke(7, {"type": "typing", "n": n})
    hub.appended(7, 42, {"type": "message", "id": 42})
    items = _drain(slow)
    assert len(items) == slow.maxsize
    assert items[0] == {"type": "typing", "n": 1}  # the oldest made way
    assert items[-1] is None  # read the stream: event 42 is there, committed


def test_a_forgotten_socket_is_not_poked() -> None:
    hub = Hub()
    queue = hub.listen(7)
    hub.forget(7, queue)
    assert hub.appended(7, 1, {"type": "message", "id": 1}) == 0
