"""Hostile files sent to the import: each gets a clear message, and nothing changes (no configuration, no audit
line, no version), and the app keeps answering."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from tests.api.conftest import Managed, ManagedFactory
from tests.exchange.test_readers import FILES

BOMB = "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
                  *(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)),
                  "models:", "  x:", "    cmd: *a8"])


def unchanged(deck: Managed, before: tuple[list[dict[str, Any]], ...]) -> bool:
    return snapshot(deck) == before


def snapshot(deck: Managed) -> tuple[list[dict[str, Any]], ...]:
    return (deck.rows(), deck.rows("SELECT * FROM config_version"),
            deck.rows("SELECT * FROM audit_log WHERE action = 'model.import'"))


async def test_files_that_are_not_configurations_are_refused_clearly(managed: ManagedFactory) -> None:
    deck = await managed(models={"tiny": {}})
    before = snapshot(deck)
    cases: list[tuple[bytes | str, str, int, str]] = [
        (b"\x89PNG\r\n\x1a\n" + os.urandom(2048), "image/png", 422, "the file is not text (UTF-8)"),
        ("Dear admin, please import my models.", "text/plain", 422, "not a configuration file ModelDeck knows"),
        (b"x" * (10 * 1024 * 1024), "application/octet-stream", 413, "larger than 4 MiB"),
        ("[" * 50_000 + "]" * 50_000, "application/json", 422, "nested more than 32 levels deep"),
        ("a:\n" + "".join("  " * depth + "b:\n" for depth in range(1, 60)), "application/yaml", 422,
         "nested more than 32 levels deep"),
        (BOMB, "application/yaml", 422, "refused as a possible alias bomb"),
        ("models:\n  x:\n    cmd: llama-server -m 'unclosed\n", "application/yaml", 422,
         "cannot split the command line"),
    ]
    for body, kind, status, said in cases:
        answer = await deck.call("POST", "/api/import", data=body, headers={"Content-Type": kind})
        if status == 422 and "command line" in said:  # a readable file whose only model is refused
            assert answer.status == 422 and said in answer.body["models"][0]["reason"], answer
            continue
        assert answer.status == status, (said, answer)
        assert said in answer.json_detail(), (said, answer)
    chunked = await deck.call("POST", "/api/import", data=_stream(10 * 1024 * 1024))
    assert chunked.status == 413, "a body without a length is cut off at the limit too"
    assert unchanged(deck, before)
    assert (await deck.call("GET", "/api/models")).status == 200, "the app still answers"


async def _stream(size: int) -> AsyncIterator[bytes]:
    chunk = b"y" * 65536
    for _ in range(size // len(chunk)):
        yield chunk


async def test_files_outside_the_folders_and_forbidden_flags_are_refused_model_by_model(
        managed: ManagedFactory) -> None:
    deck = await managed()
    outside = deck.app.home / "elsewhere.gguf"
    outside.write_bytes((deck.models_dir / "tiny.gguf").read_bytes())
    (deck.models_dir / "link.gguf").symlink_to(outside)
    tiny = deck.models_dir / "tiny.gguf"
    text = f"""
models:
  passwd:
    cmd: llama-server -m /etc/passwd
  through-a-link:
    cmd: llama-server -m {deck.models_dir}/link.gguf
  dotdot:
    cmd: llama-server -m {deck.models_dir}/../elsewhere.gguf
  lora-outside:
    cmd: llama-server -m {tiny} --lora /etc/shadow
  runs-programs:
    cmd: |
      llama-server -m {tiny} --mcp-servers-json '{{"x": {{"command": "sh"}}}}'
  writes-files:
    cmd: llama-server -m {tiny} --log-file /tmp/pwned.log
  connects-out:
    cmd: llama-server -m {tiny} --rpc 10.0.0.9:50052
  preloads:
    cmd: llama-server -m {tiny}
    env: ["LD_PRELOAD=/tmp/evil.so"]
  reads-env:
    cmd: llama-server -m {tiny} --alias ${{env.HOME}}
"""
    answer = await deck.call("POST", "/api/import", data=text)
    assert answer.status == 422 and answer.json_detail().startswith("nothing was imported: every model")
    reasons = {model["name"]: model["reason"] for model in answer.body["models"]}
    assert all(model["outcome"] == "refused" for model in answer.body["models"])
    assert "no such file" in reasons["passwd"] or "outside the allowed model folders" in reasons["passwd"]
    assert "outside the allowed model folders" in reasons["through-a-link"]
    assert "outside the allowed model folders" in reasons["dotdot"]
    assert "outside the allowed model folders" in reasons["lora-outside"]
    assert "it runs programs or tools" in reasons["runs-programs"]
    assert "it writes files" in reasons["writes-files"]
    assert "it opens network connections" in reasons["connects-out"]
    assert "LD_PRELOAD cannot be set" in reasons["preloads"]
    assert "reads the environment of the machine" in reasons["reads-env"]
    assert deck.model_names() == [] and deck.rows("SELECT * FROM config_version") == []


def test_the_example_files_the_tests_keep_exist() -> None:
    assert (FILES / "llama-swap.yaml").is_file() and (FILES / "models-preset.ini").is_file()
