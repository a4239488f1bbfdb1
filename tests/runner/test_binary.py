"""Which llama-server runs: explicit > MODELDECK_LLAMA_SERVER > PATH > cached build; never a silent fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.binary import ENV_VAR, BinaryNotFound, Found, find_binary, resolve_binary
from runner.llama_build import plan_build


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No env var, an empty PATH and an empty cache: nothing to find."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("MODELDECK_CACHE", str(tmp_path / "cache"))
    return tmp_path


def link(real: Path, at: Path) -> Path:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(real)
    return at


def test_order_of_sources(llama_server_binary: Path, bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = plan_build().binary
    assert find_binary(cached=cache) is None
    with pytest.raises(BinaryNotFound, match="no llama-server"):
        resolve_binary(allow_build=False)

    cached = link(llama_server_binary, cache)
    assert find_binary(cached=cache) == Found(cached, "the cache")
    on_path = link(llama_server_binary, bare / "bin" / "llama-server")
    assert find_binary(cached=cache) == Found(on_path, "PATH")
    from_env = link(llama_server_binary, bare / "env" / "llama-server")
    monkeypatch.setenv(ENV_VAR, str(from_env))
    assert find_binary(cached=cache) == Found(from_env, ENV_VAR)
    explicit = link(llama_server_binary, bare / "explicit" / "llama-server")
    assert find_binary(explicit, cache) == Found(explicit, "the --llama-server setting")


def test_an_unusable_explicit_binary_is_an_error(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_executable = bare / "llama-server"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(BinaryNotFound, match="not an executable file"):
        find_binary(not_executable)
    monkeypatch.setenv(ENV_VAR, str(bare / "nope"))
    with pytest.raises(BinaryNotFound, match=ENV_VAR):
        find_binary()
