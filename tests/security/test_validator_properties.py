"""Whatever a browser types, the validator either refuses it or returns a config that is safe to start."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from protocol import ModelConfig
from protocol.config import FORBIDDEN_FLAGS
from protocol.model_files import check_arg_paths, resolve_model_file
from store.form_validation import validate_form
from tests.tiny_gguf import write_tiny_llama

FLAGS = sorted(FORBIDDEN_FLAGS)
# Ways to dress up a forbidden flag: llama-server's own '_' for '-', full-width forms, look-alike dashes.
DISGUISES: list[Callable[[str], str]] = [str, lambda f: f.replace("-", "_").replace("__", "--", 1),
             lambda f: unicodedata.normalize("NFKC", f).translate({ord("-"): "\uff0d"}),
             lambda f: f.replace("-", "\u2014", 1), lambda f: f.upper()]


@st.composite
def flag_like(draw: st.DrawFn) -> str:
    flag = draw(st.sampled_from(DISGUISES))(draw(st.sampled_from(FLAGS)))
    return flag + draw(st.sampled_from(["", "=", "=/etc/passwd", "=../x", "=0.0.0.0"]))


arg_text = st.one_of(flag_like(), st.text(max_size=40),
                     st.sampled_from(["../", "/etc/passwd", "~/", "./x", "a/b", ".5", "-1", "x\x00y"]))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("props")
    model = write_tiny_llama(root / "models" / "tiny.gguf")
    (root / "models" / "out.gguf").symlink_to(write_tiny_llama(root / "outside" / "o.gguf"))
    return root / "models", Path(model)


def assert_safe(config: ModelConfig, models: Path) -> None:
    """What the runner relies on: its own flags stay its own, and every path stays in the folders."""
    for arg in config.extra_args:
        assert not any(ord(ch) < 32 for ch in arg)
        normal = unicodedata.normalize("NFKC", arg)
        flag = normal.split("=", 1)[0].replace("_", "-") if normal.startswith("--") else normal
        assert flag not in FORBIDDEN_FLAGS
        assert not (arg and arg[0] != "-" and unicodedata.category(arg[0]) == "Pd")
    check_arg_paths(config.extra_args, [models])
    resolve_model_file(config.model_path, [models])
    args = config.server_args()
    assert args.count("--model") == 1 and "--host" not in args and "--port" not in args


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(arg_text, max_size=6), name=st.text(max_size=80), path_choice=st.integers(0, 3),
       env=st.text(max_size=60), notes=st.text(max_size=60))
def test_the_form_validator_never_lets_an_unsafe_config_through(
        folders: tuple[Path, Path], *, extra: list[str], name: str, path_choice: int, env: str, notes: str) -> None:
    models, model = folders
    path = [str(model), str(models / "out.gguf"), str(models / ".." / "outside" / "o.gguf"), name][path_choice]
    line = " ".join(f"'{a}'" if "'" not in a else a for a in extra)
    config, errors = validate_form({"name": name, "model_path": path, "extra_args": line, "env": env, "notes": notes},
                                   allowed_dirs=[models], name_taken=False)
    assert (config is None) == bool(errors)
    assert all(isinstance(message, str) and message for message in errors.values())
    if config is not None:
        assert_safe(config, models)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(arg_text, max_size=8))
def test_the_shared_config_refuses_the_runners_own_flags_in_any_disguise(
        folders: tuple[Path, Path], extra: list[str]) -> None:
    model = folders[1]
    try:
        config = ModelConfig(name="m", model_path=str(model), extra_args=extra)
    except ValidationError:
        return
    for arg in config.extra_args:
        normal = unicodedata.normalize("NFKC", arg)
        flag = normal.split("=", 1)[0].replace("_", "-") if normal.startswith("--") else normal
        assert flag not in FORBIDDEN_FLAGS
