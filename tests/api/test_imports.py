"""Importing the files people arrive with: the llama-swap example and a llama-server models preset the tests
keep (tests/exchange/files), previewed first, then applied; and names that exist (skip, replace, copy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.api.conftest import Managed, ManagedFactory

FILES = Path(__file__).parents[1] / "exchange" / "files"


def example(deck: Managed, name: str) -> str:
    return (FILES / name).read_text().replace("/srv/models", str(deck.models_dir))


def planned(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {model["name"]: model for model in answer["models"]}


def row(deck: Managed, name: str) -> dict[str, Any]:
    [found] = deck.rows("SELECT * FROM model_config WHERE name = ?", name)
    return {**found, **{field: json.loads(found[field]) for field in ("aliases", "extra_args", "env")}}


async def test_the_llama_swap_example_imports_with_its_fields_and_the_refused_model_says_why(
        managed: ManagedFactory) -> None:
    deck = await managed()
    text = example(deck, "llama-swap.yaml")
    preview = await deck.call("POST", "/api/import?dry_run=true", data=text,
                              headers={"Content-Type": "application/yaml"})
    assert preview.status == 200 and preview.body["applied"] is False
    assert preview.body["format"] == "llama-swap"
    assert deck.model_names() == [], "a preview changes nothing"
    models = planned(preview.body)
    assert {name: model["outcome"] for name, model in models.items()} == {
        "qwen-coder": "new", "llama-3.2-3b": "new", "nomic-embed": "new", "gemma-from-hf": "refused"}
    assert "-hf (--hf-repo) is not allowed: it downloads models or files" in models["gemma-from-hf"]["reason"]

    applied = await deck.call("POST", "/api/import", data=text)  # no content type: told apart by its content
    assert applied.status == 200 and applied.body["applied"] is True
    assert applied.body["counts"] == {"new": 3, "change": 0, "unchanged": 0, "skip": 0, "copy": 0, "refused": 1}
    assert deck.model_names() == ["llama-3.2-3b", "nomic-embed", "qwen-coder"]
    coder = row(deck, "qwen-coder")
    fields = ("model_path", "port", "ctx_size", "gpu_layers", "flash_attn", "threads", "parallel", "cache_type_k",
              "cache_type_v", "family", "unload_when_idle_s")
    assert {key: coder[key] for key in fields} == {
        "model_path": str(deck.models_dir / "qwen2.5-coder-7b.gguf"), "port": None, "ctx_size": 8192,
        "gpu_layers": 99, "flash_attn": 1, "threads": 8, "parallel": 2, "cache_type_k": "q8_0",
        "cache_type_v": "q8_0", "family": "llama", "unload_when_idle_s": 300}
    assert coder["aliases"] == ["gpt-4o-mini", "coder"]
    assert coder["extra_args"] == ["--temp", "0.2", "--top-k", "40", "--jinja"]
    assert coder["env"] == {"CUDA_VISIBLE_DEVICES": "0"}
    assert coder["notes"] == "Qwen2.5 Coder 7B\nCode completion for the IDE"
    small = row(deck, "llama-3.2-3b")
    assert (small["ctx_size"], small["batch_size"], small["aliases"]) == (4096, 512, [])
    assert small["unload_when_idle_s"] == 600  # globalTTL
    assert row(deck, "nomic-embed")["extra_args"] == ["--embedding", "--pooling", "mean", "-ub", "2048"]
    lines = deck.rows("SELECT target, detail FROM audit_log WHERE action = 'model.import' ORDER BY target")
    assert [line["target"] for line in lines] == ["llama-3.2-3b", "nomic-embed", "qwen-coder"]


async def test_names_that_exist_are_skipped_replaced_with_a_diff_or_copied(managed: ManagedFactory) -> None:
    deck = await managed()
    text = example(deck, "llama-swap.yaml")
    await deck.call("POST", "/api/import", data=text)
    changed = text.replace("--ctx-size ${ctx}", "--ctx-size 16384").replace("--threads 8", "--threads 4")

    skipped = await deck.call("POST", "/api/import?dry_run=true", data=changed)
    assert planned(skipped.body)["qwen-coder"]["outcome"] == "skip"

    replace = await deck.call("POST", "/api/import?dry_run=true&on_conflict=replace", data=changed)
    coder = planned(replace.body)["qwen-coder"]
    assert coder["outcome"] == "change"
    assert coder["changes"] == {"ctx_size": {"old": 8192, "new": 16384}, "threads": {"old": 8, "new": 4}}
    assert planned(replace.body)["nomic-embed"]["outcome"] == "unchanged"
    uid = row(deck, "qwen-coder")["uid"]
    assert (await deck.call("POST", "/api/import?on_conflict=replace", data=changed)).status == 200
    assert (row(deck, "qwen-coder")["uid"], row(deck, "qwen-coder")["ctx_size"]) == (uid, 16384)
    history = (await deck.call("GET", f"/api/models/{uid}/history")).body
    assert [(v["action"], list(v["changes"])) for v in history] == [("import", ["ctx_size", "threads"]),
                                                                    ("import", [])]

    copied = await deck.call("POST", "/api/import?on_conflict=copy", data=changed)
    assert {model["name"] for model in copied.body["models"] if model["outcome"] == "copy"} == {
        "qwen-coder copy", "llama-3.2-3b copy", "nomic-embed copy"}
    assert row(deck, "qwen-coder copy")["aliases"] == []  # its aliases belong to the original
    bad = await deck.call("POST", "/api/import?on_conflict=merge", data=changed)
    assert bad.status == 422 and "on_conflict" in bad.body["fields"]


async def test_a_llama_server_preset_imports_with_its_star_defaults(managed: ManagedFactory) -> None:
    deck = await managed()
    answer = await deck.call("POST", "/api/import", data=example(deck, "models-preset.ini"))
    assert answer.status == 200 and answer.body["format"] == "llama-server preset"
    models = planned(answer.body)
    assert (models["chat"]["outcome"], models["coder"]["outcome"]) == ("new", "new")
    assert "download cache" in models["ggml-org/gemma-3-4b-it-GGUF:Q4_K_M"]["reason"]
    chat, coder = row(deck, "chat"), row(deck, "coder")
    assert (chat["ctx_size"], chat["gpu_layers"], chat["autostart"], chat["extra_args"]) == (
        4096, 8, 1, ["--jinja", "--temp", "0.7"])
    assert (coder["ctx_size"], coder["cache_type_k"], coder["flash_attn"], coder["extra_args"]) == (
        16384, "q8_0", 1, ["--no-jinja"])
