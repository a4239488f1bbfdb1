"""Actions on many models at once: a result for each, and one refused stops no other."""

from __future__ import annotations

from tests.api.conftest import Managed, ManagedFactory
from tests.processes import llama_servers
from tests.waiting import eventually, until


def uids(deck: Managed) -> dict[str, str]:
    return {row["name"]: row["uid"] for row in deck.rows()}


async def statuses(deck: Managed) -> dict[str, str]:
    return {model["name"]: model["status"] for model in (await deck.call("GET", "/api/models")).body}


def servers(deck: Managed) -> int:
    assert deck.app.process is not None
    return len(llama_servers(deck.app.process.pid))


async def test_bulk_stop_of_five_running_models_stops_all_five(managed: ManagedFactory) -> None:
    deck = await managed(models={f"m{index}": {"threads": 1} for index in range(5)})
    every = list(uids(deck).values())
    started = await deck.call("POST", "/api/models/bulk", json={"action": "start", "uids": every, "anyway": True})
    assert [result["done"] for result in started.body["results"]] == [True] * 5

    async def all_running() -> bool:
        return set((await statuses(deck)).values()) == {"running"}

    await eventually(all_running, within=60, message="five models running")
    assert servers(deck) == 5

    stopped = await deck.call("POST", "/api/models/bulk", json={"action": "stop", "uids": every})
    assert stopped.status == 200
    assert {(result["done"], result["message"]) for result in stopped.body["results"]} == {(True, "stopping")}

    async def all_stopped() -> bool:
        return set((await statuses(deck)).values()) == {"stopped"}

    await eventually(all_stopped, within=30, message="five models stopped")
    await until(lambda: servers(deck) == 0, within=15, message="no llama-server left")


async def test_bulk_delete_refuses_running_models_and_deletes_the_others(managed: ManagedFactory) -> None:
    deck = await managed(models={f"m{index}": {"threads": 1} for index in range(5)})
    named = uids(deck)
    for name in ("m1", "m3"):
        assert (await deck.call("POST", f"/api/models/{named[name]}/start?anyway=true")).status == 202

    async def two_running() -> bool:
        return [name for name, status in (await statuses(deck)).items() if status == "running"] == ["m1", "m3"]

    await eventually(two_running, within=30, message="m1 and m3 running")
    answer = await deck.call("POST", "/api/models/bulk", json={"action": "delete",
                                                               "uids": [*named.values(), "0" * 32]})
    results = {result["name"]: (result["done"], result["message"]) for result in answer.body["results"]}
    assert results == {"m0": (True, "deleted"), "m1": (False, "stop m1 before deleting it"),
                       "m2": (True, "deleted"), "m3": (False, "stop m3 before deleting it"),
                       "m4": (True, "deleted"), "0" * 32: (False, "that model no longer exists")}
    assert deck.model_names() == ["m1", "m3"]
