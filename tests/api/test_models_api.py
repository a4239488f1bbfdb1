"""Configurations through the API: the form's checks with one message per field, conflicts as 409, and two
clients editing the same configuration at once never losing an update silently."""

from __future__ import annotations

from auth.api_keys import Scope
from tests.api.conftest import Managed, ManagedFactory
from tests.gateway.conftest import KeySpec
from tests.waiting import eventually


async def test_a_bad_configuration_is_refused_with_every_fields_problem(managed: ManagedFactory) -> None:
    deck = await managed(models={"tiny": {}})
    before = deck.rows()
    answer = await deck.call("POST", "/api/models", json={
        "name": "", "model_path": "/etc/passwd", "ctx_size": "lots", "port": 80, "extra_args": ["-hf", "org/repo"],
        "env": {"LD_PRELOAD": "/tmp/x.so"}})
    assert answer.status == 422
    fields = answer.body["fields"]
    assert fields["name"] == "a name is required"
    assert "outside the allowed model folders" in fields["model_path"]
    assert fields["ctx_size"] == "Context size must be a whole number"  # plain words, not pydantic's
    assert fields["port"] == "Port must be between 1024 and 65535"
    assert "it downloads models or files" in fields["extra_args"]
    assert "LD_PRELOAD cannot be set" in fields["env"]
    assert answer.json_detail().startswith("the configuration is not valid: ")
    unknown = await deck.call("POST", "/api/models", json={"name": "x", "model_path": before[0]["model_path"],
                                                           "ctx": 8})
    assert unknown.status == 422 and "Extra inputs are not permitted" in unknown.body["fields"]["ctx"]
    assert deck.rows() == before


async def test_names_and_aliases_taken_uids_unknown_and_running_models_say_so(managed: ManagedFactory) -> None:
    deck = await managed(models={"tiny": {"aliases": ["gpt-4o-mini"]}})
    [tiny] = (await deck.call("GET", "/api/models")).body
    for name, aliases in (("TINY", []), ("other", ["GPT-4o-mini"])):
        taken = await deck.call("POST", "/api/models", json={"name": name, "aliases": aliases,
                                                             "model_path": tiny["model_path"]})
        assert taken.status == 409 and "already exists (as a name or an alias)" in taken.json_detail()
    missing = await deck.call("GET", f"/api/models/{'0' * 32}")
    assert missing.status == 404 and missing.json_detail() == "no model has that uid"
    assert (await deck.call("GET", "/api/nothing")).json_detail().startswith("no such route")

    assert (await deck.call("POST", f"/api/models/{tiny['uid']}/start?anyway=true")).status == 202
    again = await deck.call("POST", f"/api/models/{tiny['uid']}/start")
    assert again.status == 409 and again.json_detail() in {"tiny is already starting", "tiny is already running"}
    await eventually(lambda: _status(deck, tiny["uid"], "running"), within=30, message="tiny running")
    running = await deck.call("DELETE", f"/api/models/{tiny['uid']}")
    assert running.status == 409 and running.json_detail() == "stop tiny before deleting it"
    assert (await deck.call("DELETE", f"/api/models/{tiny['uid']}?stop=true")).status == 204  # stopped, then deleted
    assert deck.model_names() == []


async def _status(deck: Managed, uid: str, wanted: str) -> bool:
    return (await deck.call("GET", f"/api/models/{uid}")).body["status"] == wanted


async def test_two_clients_editing_at_once_a_stale_write_gets_409(managed: ManagedFactory) -> None:
    deck = await managed(models={"tiny": {"family": "llama"}},
                         keys=[KeySpec("alice", (Scope.MANAGE,)), KeySpec("bob", (Scope.MANAGE,))])
    [read_by_alice] = (await deck.call("GET", "/api/models", key="alice")).body
    [read_by_bob] = (await deck.call("GET", "/api/models", key="bob")).body
    uid = read_by_alice["uid"]

    alice = await deck.call("PUT", f"/api/models/{uid}", key="alice", json={**read_by_alice, "ctx_size": 1024})
    assert alice.status == 200 and alice.body["updated_at"] != read_by_alice["updated_at"]
    bob = await deck.call("PUT", f"/api/models/{uid}", key="bob", json={**read_by_bob, "threads": 2})
    assert bob.status == 409 and "changed by someone else since you read it" in bob.json_detail()
    assert deck.rows()[0]["ctx_size"] == 1024 and deck.rows()[0]["threads"] is None  # alice's, and only hers

    fresh = (await deck.call("GET", f"/api/models/{uid}", key="bob")).body
    retried = await deck.call("PUT", f"/api/models/{uid}", key="bob", json={**fresh, "threads": 2})
    assert retried.status == 200
    assert (deck.rows()[0]["ctx_size"], deck.rows()[0]["threads"]) == (1024, 2)  # neither update lost
    history = (await deck.call("GET", f"/api/models/{uid}/history")).body
    assert [(v["actor"], v["action"], list(v["changes"])) for v in history] == [
        ("key:bob", "edit", ["threads"]), ("key:alice", "edit", ["ctx_size"]), ("modeldeck", "baseline", [])]

    unversioned = await deck.call("PUT", f"/api/models/{uid}", json={"ctx_size": 2048})
    assert unversioned.status == 422 and "send the updated_at you read" in unversioned.body["fields"]["updated_at"]
    assert deck.rows()[0]["ctx_size"] == 1024
