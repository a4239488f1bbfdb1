"""The flags of the llama-server binary the runner runs, read from its own `--help` (cached per binary).

`--help` prints each option as llama.cpp's `common_arg::to_string` writes it: the spellings joined by
", " (the first padded to 7 columns), a space and the value hint(s), then the help text from column
40 (on the next line when the first is too long); further help lines are indented by 40 spaces.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from protocol.flag_policy import ENV_ALLOWED, review
from protocol.flags import FlagCatalog, FlagSpec

log = logging.getLogger(__name__)
HELP_INDENT = " " * 40
HELP_TIMEOUT_S = 20.0
_NAMES = re.compile(r"(-[^\s,]+)((?:,\s+-[^\s,]+)*)")
_SPELLING = re.compile(r"-[^\s,]+")
_TWO_HINTS = re.compile(r"[A-Z][A-Z0-9_]* [A-Z][A-Z0-9_]*")  # 'START END': two values (never guessed wider)


class CatalogError(RuntimeError):
    """The binary's --help could not be read; the message says why."""


def _first_line(line: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """'-c,    --ctx-size N        size of ...' -> (('-c', '--ctx-size'), ('N',), 'size of ...')."""
    names = _NAMES.match(line)
    assert names is not None  # the caller checked the line starts with '-'
    spellings = tuple(_SPELLING.findall(names.group(0)))
    rest = line[names.end():]
    hint, help_text = "", ""
    if rest.startswith(" ") and not rest.startswith("   "):
        hint, _, help_text = rest[1:].partition("   ")
    else:
        help_text = rest
    hint = hint.strip()
    # Two hints only when both are plain upper-case words; a hint with spaces ('<tensor name pattern>=...')
    # is one value. Reading too few values is safe: the next one is then checked as a flag and refused.
    hints = tuple(hint.split(" ")) if _TWO_HINTS.fullmatch(hint) else (hint,) if hint else ()
    return spellings, hints, help_text.strip()


def parse_help(text: str, version: str) -> list[FlagSpec]:
    """Every option `--help` lists, without the policy applied (category and refusal empty)."""
    flags: list[FlagSpec] = []
    names: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    help_lines: list[str] = []

    def finish() -> None:
        if names:
            flags.append(FlagSpec(names=names, values=hints, help="\n".join(help_lines).strip()))

    for line in text.splitlines():
        if line.startswith("-") and not line.startswith("-----"):
            finish()
            names, hints, first_help = _first_line(line)
            help_lines = [first_help] if first_help else []
        elif names and line.startswith(HELP_INDENT):
            help_lines.append(line.strip())
        else:  # a section header or a blank line ends the option before it
            finish()
            names, hints, help_lines = (), (), []
    finish()
    if not flags:
        raise CatalogError(f"llama-server {version} --help lists no flags")
    return flags


def build_catalog(help_text: str, version: str) -> FlagCatalog:
    """The binary's flags, each marked with the reviewed decision (unreviewed flags are refused)."""
    marked = []
    for spec in parse_help(help_text, version):
        category, refusal = review(spec.canonical)
        marked.append(spec.model_copy(update={"category": category, "refusal": refusal}))
    return FlagCatalog(version=version, flags=tuple(marked), env=dict(ENV_ALLOWED))


@dataclass(frozen=True)
class _BinaryStamp:
    path: str
    size: int
    mtime_ns: int


_cache: dict[_BinaryStamp, FlagCatalog] = {}


def cached_catalog(binary: Path) -> FlagCatalog | None:
    """The catalog already read for this very file (same path, size and modification time), if any."""
    try:
        return _cache.get(_stamp(binary))
    except OSError:
        return None


def _stamp(binary: Path) -> _BinaryStamp:
    info = binary.stat()
    return _BinaryStamp(str(binary), info.st_size, info.st_mtime_ns)


async def read_catalog(binary: Path, *, cwd: Path) -> FlagCatalog:
    """The catalog of `binary`, from its `--help` and `--version` (run once per binary file, in `cwd`)."""
    cached = cached_catalog(binary)
    if cached is not None:
        return cached
    stamp = _stamp(binary)
    cwd.mkdir(mode=0o700, parents=True, exist_ok=True)  # noqa: ASYNC240 - once per binary, microseconds
    help_text = await _output(binary, "--help", cwd)
    version_line = next((line for line in (await _output(binary, "--version", cwd)).splitlines()
                         if line.startswith("version:")), "version: unknown")
    catalog = build_catalog(help_text, version_line.removeprefix("version:").strip())
    unreviewed = [spec.canonical for spec in catalog.flags if not spec.category]
    if unreviewed:
        log.warning("llama-server %s has %d flags ModelDeck has not reviewed; they are refused: %s",
                    catalog.version, len(unreviewed), " ".join(unreviewed))
    _cache[stamp] = catalog
    return catalog


async def _output(binary: Path, flag: str, cwd: Path) -> str:
    """stdout and stderr of `binary flag`, run with an empty environment (no LLAMA_ARG_* can steer it)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            str(binary), flag, cwd=cwd, env={"HOME": str(cwd)}, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    except OSError as exc:
        raise CatalogError(f"cannot run {binary} {flag}: {exc.strerror}") from None
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), HELP_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise CatalogError(f"{binary} {flag} did not finish within {HELP_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        raise CatalogError(f"{binary} {flag} exited with code {proc.returncode}")
    return output.decode("utf-8", "replace")
