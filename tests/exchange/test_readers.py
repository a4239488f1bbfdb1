"""The readers on their own: what each kind of file becomes, before the store checks it, against the real
llama-server's flag catalog. (Imports through the API, with every check, are in tests/api.)"""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange import UnreadableFile, export_document, read_command_line, read_import, split_command_line
from exchange.candidates import Candidate
from protocol import ModelConfig
from protocol.flags import FlagCatalog

FILES = Path(__file__).parent / "files"


def example(name: str, models: str = "/models") -> bytes:
    return (FILES / name).read_text().replace("/srv/models", models).encode()


def by_name(candidates: list[Candidate]) -> dict[str, Candidate]:
    return {candidate.name: candidate for candidate in candidates}


def test_the_llama_swap_example_expands_its_macros_into_fields(flag_catalog: FlagCatalog) -> None:
    read = read_import(example("llama-swap.yaml"), "application/yaml", flag_catalog)
    assert read.format == "llama-swap"
    models = by_name(read.candidates)
    assert list(models) == ["qwen-coder", "llama-3.2-3b", "nomic-embed", "gemma-from-hf"]
    coder = models["qwen-coder"]
    assert coder.values == {
        "name": "qwen-coder", "model_path": "/models/qwen2.5-coder-7b.gguf", "port": None, "ctx_size": "8192",
        "gpu_layers": "99", "flash_attn": True, "threads": "8", "parallel": "2", "cache_type_k": "q8_0",
        "cache_type_v": "q8_0", "extra_args": ["--temp", "0.2", "--top-k", "40", "--jinja"],
        "aliases": ["gpt-4o-mini", "coder"], "env": {"CUDA_VISIBLE_DEVICES": "0"},
        "notes": "Qwen2.5 Coder 7B\nCode completion for the IDE", "unload_when_idle_s": 300}
    assert any("--host 127.0.0.1 left out" in note for note in coder.notes)
    assert any("--metrics left out" in note for note in coder.notes)
    small = models["llama-3.2-3b"]
    assert (small.values["ctx_size"], small.values["batch_size"]) == ("4096", "512")  # its own macro wins
    assert small.values["aliases"] == ["llama-3.2-3b"]  # ${MODEL_ID}; the plan drops an alias that is the name
    assert small.values["unload_when_idle_s"] == 600  # globalTTL
    embed = models["nomic-embed"]
    assert "unload_when_idle_s" not in embed.values  # ttl 0: llama-swap never unloads it
    assert embed.values["extra_args"] == ["--embedding", "--pooling", "mean", "-ub", "2048"]
    assert any("unlisted" in note for note in embed.notes)
    assert models["gemma-from-hf"].values["extra_args"] == ["-hf", "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M"]
    assert any("apiKeys not imported" in note for note in read.notes)


def test_the_preset_example_takes_its_defaults_from_the_star_section(flag_catalog: FlagCatalog) -> None:
    read = read_import(example("models-preset.ini"), None, flag_catalog)
    assert read.format == "llama-server preset"
    models = by_name(read.candidates)
    chat, coder = models["chat"].values, models["coder"].values
    assert chat == {"name": "chat", "ctx_size": "4096", "gpu_layers": "8", "model_path": "/models/llama-3.2-3b.gguf",
                    "extra_args": ["--jinja", "--temp", "0.7"], "autostart": True}
    assert (coder["ctx_size"], coder["cache_type_k"], coder["flash_attn"]) == ("16384", "q8_0", True)
    assert coder["extra_args"] == ["--no-jinja"]  # jinja = false in the section beats [*]
    assert "download cache" in str(models["ggml-org/gemma-3-4b-it-GGUF:Q4_K_M"].refused)


def test_an_unknown_preset_key_refuses_its_model(flag_catalog: FlagCatalog) -> None:
    read = read_import(b"[x]\nmodel = /models/a.gguf\nctx-sise = 4096\n", None, flag_catalog)
    assert "unknown key 'ctx-sise'" in str(read.candidates[0].refused)


def test_a_pasted_command_line_fills_the_form_fields(flag_catalog: FlagCatalog) -> None:
    line = read_command_line(split_command_line(
        "./llama-server -m /models/q.gguf \\\n -c 16384 -ngl all -fa -t -1 -np -1 --port 9001 -a qwen,chat "
        "--host 0.0.0.0 --api-key secret --mlock"), flag_catalog)
    assert line.values == {"model_path": "/models/q.gguf", "ctx_size": "16384", "gpu_layers": -1, "flash_attn": True,
                           "port": "9001", "aliases": ["qwen", "chat"], "extra_args": ["--mlock"]}
    left_out = " ".join(line.notes)
    assert "--host 0.0.0.0 left out" in left_out and "--api-key secret left out" in left_out
    assert "1 slot" in left_out  # -np -1: llama-server's automatic, ModelDeck's default


@settings(max_examples=400)
@given(st.text(alphabet="ab-=.${} \t\r\n'\"\\", max_size=40))
def test_a_command_line_splits_exactly_as_a_posix_shell_would(text: str) -> None:
    """The quick split (no quote, no backslash) and shlex agree on every line: a command is never read otherwise."""
    try:
        expected: list[str] | str = shlex.split("\n".join(text.splitlines()).replace("\\\n", " "))
    except ValueError:
        expected = "refused"
    try:
        split: list[str] | str = split_command_line(text)
    except ValueError:
        split = "refused"
    assert split == expected


def test_flash_attention_auto_is_read_as_off_and_said(flag_catalog: FlagCatalog) -> None:
    line = read_command_line(["--flash-attn", "auto"], flag_catalog)
    assert line.values == {"flash_attn": False}
    assert "auto read as off" in line.notes[0]


def test_another_program_is_refused(flag_catalog: FlagCatalog) -> None:
    read = read_import(b"models:\n  c:\n    cmd: docker run --rm -p ${PORT}:8080 ghcr.io/ggml-org/llama.cpp:server\n",
                       None, flag_catalog)
    assert "it runs docker, not llama-server" in str(read.candidates[0].refused)


def test_environment_macros_are_refused_not_read(flag_catalog: FlagCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_TEST_SECRET", "s3cret")
    text = (b"macros:\n  k: ${env.MODELDECK_TEST_SECRET}\n"
            b"models:\n  a:\n    cmd: llama-server -m /m/a.gguf --alias ${k}\n")
    [candidate] = read_import(text, None, flag_catalog).candidates
    assert "reads the environment of the machine" in str(candidate.refused)
    assert "s3cret" not in json.dumps(candidate.values) + str(candidate.refused)


def test_macros_that_multiply_stop_at_a_bound(flag_catalog: FlagCatalog) -> None:
    macros = "".join(f"  m{i}: \"{' '.join(['${m' + str(i + 1) + '}'] * 50)}\"\n" for i in range(10))
    text = f"macros:\n{macros}  m10: x\nmodels:\n  a:\n    cmd: llama-server ${{m0}}\n".encode()
    [candidate] = read_import(text, None, flag_catalog).candidates
    assert "grows past 10,000 characters" in str(candidate.refused)


def test_a_macro_that_names_itself_is_refused(flag_catalog: FlagCatalog) -> None:
    text = b"macros:\n  a: ${b}\n  b: ${a}\nmodels:\n  x:\n    cmd: llama-server ${a}\n"
    assert "levels deep (or to themselves)" in str(read_import(text, None, flag_catalog).candidates[0].refused)


def test_a_yaml_alias_bomb_is_refused_before_it_expands(flag_catalog: FlagCatalog) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = "\n".join([*lines, "models:", "  x:", "    cmd: *a8"]).encode()  # 9^9 strings once expanded
    with pytest.raises(UnreadableFile, match="alias bomb"):
        read_import(bomb, "application/yaml", flag_catalog)


@pytest.mark.parametrize(("body", "kind"), [(b"[" * 100_000 + b"]" * 100_000, "application/json"),
                                            (b"- " * 20_000 + b"x", "application/yaml"),
                                            (b"{\"a\":" * 40 + b"1" + b"}" * 40, "application/json")])
def test_deep_nesting_is_refused(flag_catalog: FlagCatalog, body: bytes, kind: str) -> None:
    with pytest.raises(UnreadableFile, match="nested more than 32 levels"):
        read_import(body, kind, flag_catalog)


@pytest.mark.parametrize(("body", "said"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
    (b"just a line of text", "not a configuration file ModelDeck knows"),
    (b"{\"format\": \"modeldeck-configurations\", \"version\": 9, \"configurations\": []}", "newer ModelDeck"),
    (b"models: [a, b]", "not a configuration file ModelDeck knows"),
    (b"[a]\nb = 1\n[a]\nc = 2\n", "not a valid preset file"),
    (b"key: [unclosed", "not valid YAML (at the end of the file)"),
    (b"key: [1, 2\nnext: 3", "not valid YAML (line 2, column 5)"),
])
def test_files_that_are_not_configurations_say_why(flag_catalog: FlagCatalog, body: bytes, said: str) -> None:
    with pytest.raises(UnreadableFile, match=re.escape(said)):
        read_import(body, None, flag_catalog)


def test_an_export_leaves_secrets_out_and_says_so(flag_catalog: FlagCatalog) -> None:
    config = ModelConfig(name="old", model_path="/m/a.gguf", extra_args=["--api-key", "hunter2", "--temp", "0.1"],
                         env={"HF_TOKEN": "hf_abc", "CUDA_VISIBLE_DEVICES": "1"})
    document = export_document([config], datetime.now(UTC))
    text = json.dumps(document)
    assert "hunter2" not in text and "hf_abc" not in text
    [exported] = document["configurations"]
    assert exported["extra_args"] == ["--temp", "0.1"] and exported["env"] == {"CUDA_VISIBLE_DEVICES": "1"}
    [candidate] = read_import(text.encode(), "application/json", flag_catalog).candidates
    assert "--api-key, HF_TOKEN" in candidate.notes[0]
