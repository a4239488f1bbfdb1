"""A model configuration: everything needed to start one llama-server, validated at the boundary.

The same pydantic model is filled by the form, stored by db/, and sent whole to the runner
with each start command. It checks form: lengths, control characters, look-alike dashes.
Whether the flags and variables are allowed needs the runner's llama-server and the model
folders (`protocol.launch_check`), and stays out of here on purpose: a configuration saved
under an older list still loads, and says why it cannot start.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

NAME_MAX = 64
# Other names a client may ask for the model by (`"model": "gpt-4o"`): plain characters that survive URLs and JSON.
ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+@-]{0,63}")
ALIASES_MAX = 16
IDLE_MAX_S = 7 * 24 * 3600  # a week; longer is never in practice
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")

class RestartPolicy(StrEnum):
    NEVER = "never"
    ON_FAILURE = "on-failure"


def split_extra_args(text: str) -> list[str]:
    """Split a line of extra arguments the way a POSIX shell would, without running one."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot split the extra arguments: {exc}") from None


def _looks_like_a_dash(char: str) -> bool:
    """A dash that is not ASCII '-' (em dash, full-width hyphen, minus sign): a flag in disguise."""
    return char != "-" and (unicodedata.category(char) == "Pd" or char in "\u2212\ufe63\uff0d")


def check_arg_form(args: list[str]) -> list[str]:
    """The form of an argument list: no control characters, sane lengths, flags written with ASCII dashes
    (NFKC folds full-width forms such as U+FF0D into what they imitate). Never a shell line."""
    for arg in args:
        if "\x00" in arg or any(ord(ch) < 32 for ch in arg):
            raise ValueError("extra arguments may not contain control characters")
        if len(arg) > 1024:
            raise ValueError("an extra argument is longer than 1024 characters")
        folded = unicodedata.normalize("NFKC", arg[:1])
        if arg and (_looks_like_a_dash(arg[0]) or (folded.startswith("-") and arg[0] != "-")):
            raise ValueError(f"{arg[:32]!r} starts with a look-alike dash: write flags with the ASCII '-'")
    if len(args) > 64:
        raise ValueError("at most 64 extra arguments")
    return args


def check_aliases(aliases: list[str]) -> list[str]:
    """Each alias plain (letters, digits and . _ : / + @ -, at most 64), no repeats ignoring case."""
    if len(aliases) > ALIASES_MAX:
        raise ValueError(f"at most {ALIASES_MAX} aliases")
    seen: set[str] = set()
    for alias in aliases:
        if not ALIAS.fullmatch(alias):
            raise ValueError(f"{alias[:70]!r} is not a valid alias: use 1 to 64 letters, digits and . _ : / + @ - "
                             "(starting with a letter or digit)")
        if alias.casefold() in seen:
            raise ValueError(f"the alias {alias!r} is listed twice")
        seen.add(alias.casefold())
    return aliases


def split_aliases(text: str) -> list[str]:
    """Aliases as typed in the form: separated by commas or spaces."""
    return [alias for alias in re.split(r"[,\s]+", text) if alias]


def new_uid() -> str:
    """A fresh model identity (32 hex digits)."""
    return uuid.uuid4().hex


IDENTITY_AND_TIMES = frozenset({"uid", "created_at", "updated_at"})
# The fields that reach llama-server: changing one changes how a running model was started.
LAUNCH_FIELDS = frozenset({"model_path", "port", "ctx_size", "gpu_layers", "threads", "batch_size", "parallel",
                           "flash_attn", "cache_type_k", "cache_type_v", "extra_args", "env"})
# The fields a running model keeps as it was started with until it starts again: the launch fields, and the
# restart policy when its runner cannot take a new one at once (before protocol 7).
RESTART_FIELDS = LAUNCH_FIELDS | {"restart_policy", "restart_limit"}


class ModelConfig(BaseModel):
    """One configured model. `uid` is its identity everywhere (a rename keeps it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uid: str = Field(default_factory=new_uid, pattern=r"^[0-9a-f]{32}$")
    name: str = Field(min_length=1, max_length=NAME_MAX)
    model_path: str = Field(min_length=1, max_length=4096)
    family: str = Field(default="", max_length=64)
    port: int | None = Field(default=None, ge=1024, le=65535)
    ctx_size: int = Field(default=4096, ge=0, le=1_048_576)
    gpu_layers: int = Field(default=0, ge=-1, le=1000)
    threads: int | None = Field(default=None, ge=1, le=1024)
    batch_size: int = Field(default=2048, ge=1, le=65536)
    parallel: int = Field(default=1, ge=1, le=256)
    flash_attn: bool = False
    cache_type_k: str = "f16"
    cache_type_v: str = "f16"
    aliases: list[str] = Field(default_factory=list)
    extra_args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    autostart: bool = False
    # Stopped (reason "idle") after this long with no gateway request in flight; None: never.
    unload_when_idle_s: int | None = Field(default=None, ge=1, le=IDLE_MAX_S)
    restart_policy: RestartPolicy = RestartPolicy.NEVER
    restart_limit: int = Field(default=3, ge=0, le=100)
    notes: str = Field(default="", max_length=10_000)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("the name may only contain printable characters")
        return value

    @field_validator("aliases")
    @classmethod
    def _plain_aliases(cls, value: list[str], info: ValidationInfo) -> list[str]:
        name = info.data.get("name")  # validated before the aliases (declared first); absent when it was invalid
        if isinstance(name, str) and name.casefold() in {alias.casefold() for alias in value}:
            raise ValueError("an alias repeats the model's own name")
        return check_aliases(value)

    def names(self) -> list[str]:
        """Every name a request may use for this model: its name, then its aliases."""
        return [self.name, *self.aliases]

    @field_validator("model_path")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("the model path may not contain NUL bytes")
        return value

    @field_validator("cache_type_k", "cache_type_v")
    @classmethod
    def _known_cache_type(cls, value: str) -> str:
        if value not in CACHE_TYPES:
            raise ValueError(f"cache type must be one of {', '.join(CACHE_TYPES)}")
        return value

    @field_validator("extra_args")
    @classmethod
    def _safe_extra_args(cls, value: list[str]) -> list[str]:
        return check_arg_form(value)

    @field_validator("env")
    @classmethod
    def _safe_env(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if not ENV_NAME.fullmatch(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
            if "\x00" in val:
                raise ValueError("environment values may not contain NUL bytes")
        return value

    def settings(self) -> dict[str, Any]:
        """Every field a person sets, as JSON values: the configuration without its identity and timestamps."""
        return self.model_dump(mode="json", exclude=set(IDENTITY_AND_TIMES))

    def server_args(self) -> list[str]:
        """llama-server's argument list (without the binary, host and port, which the runner adds)."""
        args = ["--model", self.model_path, "--ctx-size", str(self.ctx_size),
                "--n-gpu-layers", str(self.gpu_layers), "--batch-size", str(self.batch_size),
                "--parallel", str(self.parallel), "--flash-attn", "on" if self.flash_attn else "off",
                "--cache-type-k", self.cache_type_k, "--cache-type-v", self.cache_type_v]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        return args + self.extra_args


Changes = dict[str, tuple[Any, Any]]  # field -> (old value, new value), as JSON values


def differences(old: ModelConfig, new: ModelConfig) -> Changes:
    """What a person would see changed between two configurations (not their identity or timestamps)."""
    before, after = old.settings(), new.settings()
    return {name: (before[name], after[name]) for name in after if before.get(name) != after[name]}


# How a person calls each field (the form's words), for messages, history and previews.
FIELD_LABELS = {"name": "name", "model_path": "model file", "family": "family", "port": "port",
                "ctx_size": "context size", "gpu_layers": "GPU layers", "threads": "threads",
                "batch_size": "batch size", "parallel": "parallel slots", "flash_attn": "flash attention",
                "cache_type_k": "KV cache type K", "cache_type_v": "KV cache type V", "aliases": "aliases",
                "extra_args": "extra arguments", "env": "environment", "autostart": "start with ModelDeck",
                "restart_policy": "restart policy", "restart_limit": "restart limit", "notes": "notes",
                "unload_when_idle_s": "unload when idle"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


def shown_value(value: Any) -> str:
    """A setting as a person reads it in a diff: lists joined, variables as NAME=value, nothing as "(none)"; the
    fields that may be empty (port, threads) are then automatic."""
    if value is None:
        return "automatic"
    if value in ("", [], {}):
        return "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return shlex.join(str(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{key}={item}" for key, item in value.items())
    return str(value)
