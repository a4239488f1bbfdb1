"""Whatever a browser types, the checks refuse it, or every flag in it is allowed and every file it names lies
inside an allowed folder. Flags come from the real binary's catalog, in every disguise llama-server reads."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from protocol import ModelConfig
from protocol.flag_policy import FLAG_POLICY
from protocol.flags import FlagCatalog, FlagSpec, ValueKind, choices
from protocol.launch_check import LaunchRefused, check_extra_args
from protocol.model_files import resolve_model_file
from store.form_validation import validate_form
from tests.tiny_gguf import write_tiny_llama

# Ways to dress up a flag: llama-server's own '_' for '-', full-width forms, look-alike dashes, upper case.
DISGUISES: list[Callable[[str], str]] = [str, str, str, lambda f: f.replace("-", "_").replace("__", "--", 1),
             lambda f: f.translate({ord("-"): "\uff0d"}), lambda f: f.replace("-", "\u2014", 1), str.upper]
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("props")
    model = write_tiny_llama(root / "models" / "tiny.gguf")
    (root / "models" / "out.gguf").symlink_to(write_tiny_llama(root / "outside" / "o.gguf"))
    (root / "models" / "template.jinja").write_text("{{ messages }}")
    return root / "models", Path(model)


def hostile_values(models: Path) -> list[str]:
    return [str(models / "out.gguf"), str(models / ".." / "outside" / "o.gguf"), "/etc/passwd", "tiny.gguf",
            "../models/tiny.gguf", "~/x", f"{models / 'tiny.gguf'},/etc/passwd", str(models / "missing.gguf"),
            "--agent", "-hf", "http://127.0.0.1:9/x", "", "x y", "--log-file=/tmp/x"]


def right_value(kind: ValueKind, hint: str, models: Path) -> st.SearchStrategy[str]:
    """A value of the kind the hint asks for, as a person would type it."""
    file = f"{models / 'tiny.gguf'}:0.5" if ":SCALE" in hint else str(models / "template.jinja")
    return st.sampled_from({ValueKind.NUMBER: ["1", "-1", ".5", "0.25"], ValueKind.CHOICE: list(choices(hint)),
                            ValueKind.FILE: [file, str(models / "tiny.gguf")], ValueKind.URL: ["http://127.0.0.1:9/"],
                            ValueKind.TEXT: ["x", "org/model", "{}", "a,b"]}[kind] or ["x"])


def argument_lists(catalog: FlagCatalog, models: Path) -> st.SearchStrategy[list[str]]:
    """Allowed flags with right values, and at most one probe among them: a refused flag in disguise, a flag
    hidden as a value, a value that escapes the folders, or stray text."""
    allowed = [spec for spec in catalog.flags if spec.allowed]
    refused = [spec for spec in catalog.flags if not spec.allowed]
    naming_files = [spec for spec in allowed if ValueKind.FILE in spec.kinds]
    taking_text = [spec for spec in allowed if spec.kinds[:1] == (ValueKind.TEXT,)]
    hostile = st.sampled_from(hostile_values(models))

    def with_values(spec: FlagSpec, value: Callable[[ValueKind, str], st.SearchStrategy[str]]
                    ) -> st.SearchStrategy[tuple[str, ...]]:
        return st.tuples(*(value(kind, hint) for hint, kind in zip(spec.values, spec.kinds, strict=True)))

    @st.composite
    def fine(draw: st.DrawFn) -> list[str]:
        spec = draw(st.one_of(st.sampled_from(allowed), st.sampled_from(naming_files)))
        return [draw(st.sampled_from(spec.names)), *draw(with_values(spec, lambda k, h: right_value(k, h, models)))]

    @st.composite
    def probe(draw: st.DrawFn) -> list[str]:
        spec = draw(st.one_of(st.sampled_from(refused), st.sampled_from(catalog.flags), st.sampled_from(naming_files)))
        name = draw(st.sampled_from(DISGUISES))(draw(st.sampled_from(spec.names)))
        name += draw(st.sampled_from(["", "", "", "=1", f"={models / 'tiny.gguf'}"]))
        values = list(draw(with_values(spec, lambda k, h: st.one_of(right_value(k, h, models), hostile, hostile,
                                                                      st.text(max_size=12)))))
        if draw(st.booleans()) and values:
            values.pop()  # a value missing
        hidden = [draw(st.sampled_from(taking_text)).names[0], draw(st.sampled_from(refused)).names[-1]]
        return draw(st.sampled_from([[name, *values], hidden, [draw(hostile)], [draw(st.text(max_size=20))]]))

    @st.composite
    def arguments(draw: st.DrawFn) -> list[str]:
        parts = draw(st.lists(fine(), max_size=5))
        if draw(st.booleans()):
            parts.insert(draw(st.integers(0, len(parts))), draw(probe()))
        return [arg for part in parts for arg in part]

    return arguments()


def assert_allowed(args: list[str], catalog: FlagCatalog, models: Path) -> None:
    """The property, checked the way llama-server reads the list: a flag, then as many values as it takes."""
    position = 0
    while position < len(args):
        spec = catalog.find(args[position])
        assert spec is not None, args[position]
        assert FLAG_POLICY[spec.canonical].allowed, spec.canonical  # by the reviewed policy itself
        taken = args[position + 1:position + 1 + len(spec.values)]
        assert len(taken) == len(spec.values)
        for value, kind in zip(taken, spec.kinds, strict=True):
            assert catalog.find(value) is None, f"{value} hides a flag"
            if kind is ValueKind.FILE:
                for part in value.split(","):
                    real = Path(part.rsplit(":", 1)[0] if ":" in part else part).resolve(strict=True)
                    assert real.is_relative_to(models.resolve()) and real.is_file(), part
            assert kind is not ValueKind.URL
        position += 1 + len(spec.values)


@PROPERTY
@given(data=st.data())
def test_any_argument_list_is_refused_or_allowed_and_inside_the_folders(
        folders: tuple[Path, Path], flag_catalog: FlagCatalog, data: st.DataObject) -> None:
    models = folders[0]
    args = data.draw(argument_lists(flag_catalog, models))
    try:
        check_extra_args(args, flag_catalog, [models])
    except LaunchRefused as refused:
        assert refused.message and refused.field == "extra_args" and refused.argument in args
        return
    event(f"accepted {min(len(args), 3)} arguments")
    assert_allowed(args, flag_catalog, models)


@PROPERTY
@given(data=st.data(), name=st.text(max_size=80), path_choice=st.integers(0, 3), env=st.text(max_size=60),
       notes=st.text(max_size=60))
def test_the_form_validator_never_lets_an_unsafe_config_through(
        folders: tuple[Path, Path], flag_catalog: FlagCatalog, *, data: st.DataObject, name: str, path_choice: int,
        env: str, notes: str) -> None:
    models, model = folders
    extra = data.draw(argument_lists(flag_catalog, models))
    path = [str(model), str(models / "out.gguf"), str(models / ".." / "outside" / "o.gguf"), name][path_choice]
    line = " ".join(f"'{a}'" if "'" not in a else a for a in extra)
    config, errors = validate_form({"name": name, "model_path": path, "extra_args": line, "env": env, "notes": notes},
                                   allowed_dirs=[models], name_taken=False, flags=flag_catalog)
    assert (config is None) == bool(errors)
    assert all(isinstance(message, str) and message for message in errors.values())
    if config is not None:
        assert_allowed(config.extra_args, flag_catalog, models)
        assert set(config.env) <= set(flag_catalog.env)
        resolve_model_file(config.model_path, [models])
        args = config.server_args()
        assert args.count("--model") == 1 and "--host" not in args and "--port" not in args


@PROPERTY
@given(extra=st.lists(st.one_of(st.text(max_size=40), st.sampled_from(["\uff0d\uff0dhost", "\u2014host", "a\x00b"])),
                      max_size=8))
def test_the_shared_config_keeps_its_form_checks(folders: tuple[Path, Path], extra: list[str]) -> None:
    """Structure only (a saved configuration must always load): no control characters, no disguised dashes."""
    try:
        config = ModelConfig(name="m", model_path=str(folders[1]), extra_args=extra)
    except ValidationError:
        return
    for arg in config.extra_args:
        assert not any(ord(ch) < 32 for ch in arg)
        assert not (arg and arg[0] != "-" and unicodedata.normalize("NFKC", arg[0]).startswith("-"))
        assert not (arg and arg[0] != "-" and unicodedata.category(arg[0]) == "Pd")
