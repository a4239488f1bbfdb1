"""Every flag the built llama-server's --help lists has been reviewed: it is allowed, or refused with its reason.

When a newer llama-server adds a flag, the first test fails and prints it: read its help, then add it to
protocol/flag_policy.py under the category it belongs to. Until then the runner refuses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.flag_policy import FLAG_POLICY, NOT_REVIEWED, FlagCategory
from protocol.flags import FlagCatalog, FlagSpec, ValueKind, choices
from protocol.launch_check import LaunchRefused, check_extra_args
from runner.flag_catalog import build_catalog
from tests.tiny_gguf import write_tiny_llama


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("review") / "models"
    write_tiny_llama(folder / "adapter.gguf")
    return folder


def sample_value(spec: FlagSpec, hint: str, kind: ValueKind, models: Path) -> str:
    """A value of the kind the hint asks for, as a person would type it."""
    if kind is ValueKind.FILE:
        return f"{models / 'adapter.gguf'}:0.5" if ":SCALE" in hint else str(models / "adapter.gguf")
    return {ValueKind.NUMBER: "1", ValueKind.URL: "http://127.0.0.1:9/m.gguf", ValueKind.TEXT: "x",
            ValueKind.CHOICE: (choices(hint) or ("x",))[0]}[kind]


def spellings(spec: FlagSpec) -> list[str]:
    """Every way llama-server reads the flag: each listed name, and '_' for '-' in the long ones."""
    names = list(spec.names)
    return names + [name.replace("-", "_").replace("__", "--", 1) for name in names if name.startswith("--")]


def test_every_flag_of_the_built_llama_server_is_reviewed(flag_catalog: FlagCatalog) -> None:
    unreviewed = [spec.canonical for spec in flag_catalog.flags if spec.canonical not in FLAG_POLICY]
    if unreviewed:
        print(f"llama-server {flag_catalog.version} has flags nobody has reviewed (refused until then):")
        for spec in flag_catalog.flags:
            if spec.canonical in unreviewed:
                print(f"  {', '.join(spec.names)} {' '.join(spec.values)}: {spec.help}")
    assert unreviewed == []
    assert len(flag_catalog.flags) > 200  # the help was read whole


def test_every_flag_is_allowed_or_refused_with_its_reason_in_every_spelling(flag_catalog: FlagCatalog,
                                                                            models: Path) -> None:
    allowed = refused = 0
    for spec in flag_catalog.flags:
        category = FLAG_POLICY[spec.canonical]
        values = [sample_value(spec, hint, kind, models) for hint, kind in zip(spec.values, spec.kinds, strict=True)]
        for name in spellings(spec):
            assert flag_catalog.find(name) == spec, name
            if category.allowed:
                check_extra_args([name, *values], flag_catalog, [models])
                allowed += 1
            else:
                with pytest.raises(LaunchRefused) as refusal:
                    check_extra_args([name, *values], flag_catalog, [models])
                assert refusal.value.message.startswith(f"{name.split('=')[0]}"), refusal.value.message
                assert "is not allowed: " in refusal.value.message
                refused += 1
    assert allowed > 100 and refused > 50


@pytest.mark.parametrize(("name", "canonical", "values"), [
    ("-c", "--ctx-size", ("N",)), ("--ctx_size", "--ctx-size", ("N",)),
    ("-hf", "--hf-repo", ("<user>/<model>[:quant]",)),
    ("--mcp-servers-json", "--mcp-servers-json", ("JSON",)), ("-nkvo", "--kv-offload", ()),
    ("--control-vector-layer-range", "--control-vector-layer-range", ("START", "END")),
    ("-ot", "--override-tensor", ("<tensor name pattern>=<buffer type>,...",)),
])
def test_the_catalog_reads_spellings_and_values_from_the_help(flag_catalog: FlagCatalog, name: str, canonical: str,
                                                              values: tuple[str, ...]) -> None:
    spec = flag_catalog.find(name)
    assert spec is not None and spec.canonical == canonical and spec.values == values


@pytest.mark.parametrize(("flag", "category"), [
    ("--mcp-servers-json", FlagCategory.RUNS_PROGRAMS), ("--tools", FlagCategory.RUNS_PROGRAMS),
    ("--slot-save-path", FlagCategory.WRITES_FILES), ("--log-file", FlagCategory.WRITES_FILES),
    ("--hf-repo", FlagCategory.DOWNLOADS), ("--model-url", FlagCategory.DOWNLOADS), ("--rpc", FlagCategory.CONNECTS),
    ("--api-key-file", FlagCategory.NETWORK_FACE), ("--spec-draft-model", FlagCategory.OTHER_MODELS),
    ("--host", FlagCategory.SET_BY_MODELDECK), ("--temp", FlagCategory.SAMPLING),
    ("--lora", FlagCategory.MODEL_FOLDER_FILES), ("--ctx-size", FlagCategory.FORM_FIELD),
])
def test_the_flags_the_issue_names_are_where_it_says(flag: str, category: FlagCategory) -> None:
    assert FLAG_POLICY[flag] is category


def test_allowed_flags_that_name_files_take_them_only_from_the_model_folders(flag_catalog: FlagCatalog) -> None:
    """A file-valued flag must be reviewed as such: its value is then checked as a path, whatever it looks like."""
    for spec in flag_catalog.flags:
        if spec.allowed and ValueKind.FILE in spec.kinds:
            assert FLAG_POLICY[spec.canonical] is FlagCategory.MODEL_FOLDER_FILES, spec.canonical
        if spec.allowed:
            assert ValueKind.URL not in spec.kinds, spec.canonical


def test_a_flag_a_newer_llama_server_adds_is_refused_until_reviewed(flag_catalog: FlagCatalog) -> None:
    newer = build_catalog("----- common params -----\n\n"
                          "-t,    --threads N                      number of CPU threads\n"
                          "--exec-hook CMD                         run CMD after each request\n", "9999 (abc)")
    assert [spec.canonical for spec in newer.flags if not spec.category] == ["--exec-hook"]
    with pytest.raises(LaunchRefused, match=f"--exec-hook is not allowed: {NOT_REVIEWED}"):
        check_extra_args(["--exec-hook", "true"], newer, [])
    with pytest.raises(LaunchRefused, match="llama-server 9999 has no --foo"):
        check_extra_args(["--foo"], newer, [])
