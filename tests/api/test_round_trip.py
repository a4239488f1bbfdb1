"""Export fifty configurations, delete them, import the file: the same configurations, identity included."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ManagedFactory

LIVE = {"status", "problem", "blocked", "pid", "listening_port", "updated_at"}


def fifty() -> dict[str, dict[str, Any]]:
    """Configurations that use every field, differently."""
    return {f"model-{index:02}": {
        "family": "llama", "port": 20000 + index if index % 3 == 0 else None, "ctx_size": 256 * (1 + index % 4),
        "gpu_layers": index % 3 - 1, "threads": index % 5 or None, "batch_size": 512 + index, "parallel": 1 + index % 4,
        "flash_attn": index % 2 == 0, "cache_type_k": ("f16", "q8_0", "q4_0")[index % 3],
        "cache_type_v": ("f16", "q8_0")[index % 2], "aliases": [f"alias-{index}"] if index % 4 == 0 else [],
        "extra_args": ["--temp", f"0.{index % 10}", "--jinja"] if index % 2 else [],
        "env": {"CUDA_VISIBLE_DEVICES": str(index % 2)} if index % 5 == 0 else {},
        "autostart": False, "restart_policy": "on-failure" if index % 2 else "never", "restart_limit": index % 7,
        "notes": f"note {index}\nsecond line" if index % 6 == 0 else ""} for index in range(50)}


def configurations(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: value for name, value in model.items() if name not in LIVE} for model in answer]


async def test_export_fifty_delete_them_import_the_file_identical(managed: ManagedFactory) -> None:
    deck = await managed(models=fifty())
    before = configurations((await deck.call("GET", "/api/models")).body)
    assert len(before) == 50
    export = await deck.call("GET", "/api/export")
    assert export.status == 200 and "attachment" in export.headers["Content-Disposition"]
    document = export.raw
    assert export.body["format"] == "modeldeck-configurations" and len(export.body["configurations"]) == 50

    deleted = await deck.call("POST", "/api/models/bulk", json={"action": "delete",
                                                                "uids": [model["uid"] for model in before]})
    assert all(result["done"] for result in deleted.body["results"]) and deck.model_names() == []

    imported = await deck.call("POST", "/api/import", data=document, headers={"Content-Type": "application/json"})
    assert imported.status == 200, imported
    assert imported.body["applied"] is True and imported.body["counts"]["new"] == 50
    after = configurations((await deck.call("GET", "/api/models")).body)
    assert after == before

    again = await deck.call("POST", "/api/import?on_conflict=replace", data=document)
    assert again.body["counts"]["unchanged"] == 50 and again.body["applied"] is False
    history = (await deck.call("GET", f"/api/models/{before[0]['uid']}/history")).body
    assert [version["action"] for version in history] == ["import"]
