"""The queues directory an agent transfers with: every queue of the center, whatever queues the agent works
in, with how many customers wait and how many members are ready now; nothing of the queues' configuration."""

from __future__ import annotations

from test_conversations import Center, _conversation, _setup, center  # noqa: F401 - fixture
from test_presence import setup_agent

from fakes.harness import fixture_bytes, graph, graph_server  # noqa: F401 - fixtures


async def test_an_agent_sees_queues_they_do_not_work_in_with_who_is_ready(live) -> None:
    sales = await live.create("queues", {"name": "sales", "recording": True, "service_level_seconds": 15})
    billing = await live.create("queues", {"name": "billing", "channels": ["voice", "webchat"]})
    agent, me = await setup_agent(live, "ana", [sales["id"]])
    assert (await live.post(f"agents/{agent['id']}/login", {}, me)).status_code == 200

    r = await live.get("queues-directory", me)

    assert r.status_code == 200
    assert r.json() == [
        {"id": billing["id"], "name": "billing", "channels": ["voice", "webchat"], "waiting": 0,
         "ready_agents": 0},
        {"id": sales["id"], "name": "sales", "channels": ["voice"], "waiting": 0, "ready_agents": 1},
    ]
    assert [q["name"] for q in (await live.get("queues", me)).json()["items"]] == ["sales"]  # still scoped


async def test_a_supervisor_sees_every_queue_too(live) -> None:
    mine = await live.create("queues", {"name": "sales"})
    await live.create("queues", {"name": "support"})
    sup = await live.user("sup", "supervisor", supervised_queue_ids=[mine["id"]])
    assert [q["name"] for q in (await live.get("queues-directory", sup)).json()] == ["sales", "support"]


async def test_without_logging_in_the_directory_is_refused(live) -> None:
    await live.create("queues", {"name": "sales"})
    r = await live.client.get("/api/v1/queues-directory")
    assert r.status_code == 401 and "sales" not in r.text


async def test_a_customer_not_yet_answered_counts_as_waiting(center: Center) -> None:  # noqa: F811
    q, agent, me, channel = await _setup(center)
    assert (await center.post(f"agents/{agent['id']}/pause", {"reason": "Break"}, me)).status_code == 200
    assert (await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))).status_code == 200
    await center.until(lambda: _conversation(center, "queued"), "the conversation to be queued")

    listed = (await center.get("queues-directory", me)).json()

    assert [(e["name"], e["waiting"], e["ready_agents"]) for e in listed] == [("chat", 1, 0)]
