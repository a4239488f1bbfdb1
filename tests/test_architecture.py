"""docs/architecture.md lists every import between ModelDeck's parts; the code keeps to it.

The imports are read from the source (ast), lazy ones inside functions included; tests/ and bench/
may import anything.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "architecture.md"
FREE = {"tests", "bench"}
ROW = re.compile(r"^\| `(\w+)` \| ([^|]*) \|")

Arrows = dict[str, set[str]]


def parts() -> set[str]:
    """Our top-level packages and modules (a folder of Python code, or a .py file at the root)."""
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.py"))}
    return (folders - FREE) | {p.stem for p in ROOT.glob("*.py")}


def allowed() -> Arrows:
    """The table under "Layers and who may import whom": part -> the parts it may import."""
    section = DOC.read_text().split("## Layers and who may import whom", 1)[1].split("\n## ", 1)[0]
    table: Arrows = {}
    for line in section.splitlines():
        if match := ROW.match(line):
            table[match[1]] = set(re.findall(r"`(\w+)`", match[2]))
    return table


def imported() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) -> the files where that arrow is, for every import between two of our parts."""
    ours = parts()
    arrows: dict[tuple[str, str], list[str]] = defaultdict(list)
    files = [path for part in ours for path in ((ROOT / part).rglob("*.py") if (ROOT / part).is_dir()
                                                 else [ROOT / f"{part}.py"])]
    for path in files:
        relative = path.relative_to(ROOT)
        importer = relative.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                target = module.split(".")[0]
                if target in ours and target != importer:
                    arrows[importer, target].append(str(relative))
    return arrows


def test_every_part_is_in_the_table() -> None:
    assert parts() - set(allowed()) == set(), "add a row for each part to docs/architecture.md"


def test_no_import_goes_where_the_doc_does_not_allow() -> None:
    table = allowed()
    forbidden = {f"{src} -> {dst} ({', '.join(sorted(set(files)))})" for (src, dst), files in imported().items()
                 if dst not in table.get(src, set())}
    assert not forbidden, "imports docs/architecture.md does not allow:\n" + "\n".join(sorted(forbidden))


def test_the_doc_lists_only_imports_that_exist() -> None:
    real = set(imported())
    stale = {f"{src} -> {dst}" for src, targets in allowed().items() for dst in targets if (src, dst) not in real}
    assert not stale, "docs/architecture.md allows imports the code no longer makes:\n" + "\n".join(sorted(stale))
