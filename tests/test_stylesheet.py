"""Every class the pages name has a style: a Tailwind class added in ui/ without `make css` would show unstyled
(the app runs without Tailwind's runtime, ui/stylesheet.py), and this says so before anyone sees it."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import cast

import nicegui

from ui.stylesheet import STYLESHEET

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "ui"
NICEGUI_STATIC = Path(nicegui.__file__).parent / "static"
# What else styles a class: Quasar's and NiceGUI's own sheets
SHEETS = (NICEGUI_STATIC / "quasar.unimportant.prod.css", NICEGUI_STATIC / "quasar.important.prod.css",
          NICEGUI_STATIC / "nicegui.css")
CLASS_SELECTOR = re.compile(r"\.((?:\\.|[\w-])+)")
JS_CLASS = re.compile(r"""(?<![:\w-])class\s*=\s*["']([^"']*)["']""")  # a template's own (not a :class binding)
JS_STYLE = re.compile(r"""createElement\("style"\), \{ textContent: `([^`]*)`""")  # a component's own sheet


@cache
def styled_classes() -> set[str]:
    """Every class some stylesheet has a rule for: Tailwind's built one, Quasar's and NiceGUI's, and our own (the
    `*_CSS` strings of ui/'s Python, the sheet a component adds to the page)."""
    own = [value for constants in string_constants().values() for name, value in constants.items()
           if name.endswith("_CSS")]
    own += [sheet for path in UI.rglob("*.js") for sheet in JS_STYLE.findall(path.read_text())]
    css = "\n".join([*(path.read_text() for path in (STYLESHEET, *SHEETS)), *own])
    return {re.sub(r"\\(.)", r"\1", name) for name in CLASS_SELECTOR.findall(css)}


@cache
def string_constants() -> dict[Path, dict[str, str]]:
    """Each ui/ module's string constants by name, its own and those it imports from ui/ (a class list is often
    one: TOUCH)."""
    trees = {path: ast.parse(path.read_text()) for path in UI.rglob("*.py")}
    own = {path: {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                  for target in node.targets if isinstance(target, ast.Name)} for path, tree in trees.items()}
    seen = {}
    for path, tree in trees.items():
        seen[path] = dict(own[path])
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
                source = own.get(ROOT / (str(node.module).replace(".", "/") + ".py"), {})
                seen[path].update({alias.name: source[alias.name] for alias in node.names if alias.name in source})
    return seen


def tokens_of(node: ast.expr, constants: dict[str, str]) -> set[str]:
    """The whole class names a `.classes(...)` argument names for certain (not the parts an f-string computes)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return set(node.value.split())
    if isinstance(node, ast.Name) and node.id in constants:
        return set(constants[node.id].split())
    if isinstance(node, ast.JoinedStr):
        names: set[str] = set()
        parts = node.values
        for index, part in enumerate(parts):
            if isinstance(part, ast.FormattedValue):
                names |= tokens_of(part.value, constants)
                continue
            text = str(cast(ast.Constant, part).value)
            words = text.split()
            if words and index > 0 and not text[:1].isspace():
                words = words[1:]  # glued to the computed part before it
            if words and index < len(parts) - 1 and not text[-1:].isspace():
                words = words[:-1]  # glued to the computed part after it
            names |= set(words)
        return names
    if isinstance(node, ast.IfExp):
        return tokens_of(node.body, constants) | tokens_of(node.orelse, constants)
    return set()


def named_classes() -> dict[str, set[str]]:
    """Each class name the pages use -> where (file:line)."""
    constants = string_constants()
    used: dict[str, set[str]] = {}
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "classes":
                arguments = [*node.args[:1], *(k.value for k in node.keywords if k.arg in ("add", "replace"))]
                for argument in arguments:
                    for name in tokens_of(argument, constants[path]):
                        used.setdefault(name, set()).add(f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in UI.rglob("*.js"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for names in JS_CLASS.findall(line):
                for name in names.split():
                    if "$" not in name and "{" not in name:
                        used.setdefault(name, set()).add(f"{path.relative_to(ROOT)}:{number}")
    return used


def test_every_class_the_pages_name_has_a_style() -> None:
    used = named_classes()
    assert len(used) > 50, "the pages' classes were not found: the scan is broken"
    styled = styled_classes()
    unstyled = {name: sorted(where) for name, where in used.items() if name not in styled}
    assert not unstyled, f"classes without a style (a new Tailwind class? run `make css`): {unstyled}"


def test_the_check_sees_a_class_nobody_styles() -> None:
    """The scan above can fail: a made-up class in an f-string, as the pages write them, is caught."""
    call = ast.parse('ui.label().classes(f"{TOUCH} mt-[13px] text-sm")').body[0]
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    names = tokens_of(call.value.args[0], string_constants()[UI / "theme.py"])
    assert {"mt-[13px]", "text-sm", "min-h-[44px]"} <= names
    assert "mt-[13px]" not in styled_classes() and "text-sm" in styled_classes()
