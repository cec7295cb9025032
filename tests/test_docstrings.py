"""Every public object has a Google-style docstring, and the reference pages show each one."""

from __future__ import annotations

import enum
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import cfinv
import cfinv.testing

ROOT = Path(__file__).resolve().parent.parent


def public_objects() -> list[tuple[str, Any]]:
    """(qualified name, object) for every public name and every public member of a class."""
    found: list[tuple[str, Any]] = []
    for module in (cfinv, cfinv.testing):
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants are documented where they are defined
            found.append((f"{module.__name__}.{name}", obj))
            if inspect.isclass(obj) and not issubclass(obj, BaseException | enum.Enum):
                for member_name, member in vars(obj).items():
                    if member_name.startswith("_"):
                        continue
                    if isinstance(
                        member, (property, classmethod, staticmethod)
                    ) or inspect.isfunction(member):
                        found.append((f"{module.__name__}.{name}.{member_name}", member))
    return found


def _function(obj: Any) -> Any:
    if isinstance(obj, (classmethod, staticmethod)):
        return obj.__func__
    return obj


@pytest.mark.parametrize(
    ("name", "obj"), public_objects(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_public_object_has_a_docstring(name: str, obj: Any) -> None:
    """A docstring with a summary line ending in a full stop."""
    doc = inspect.getdoc(obj.fget if isinstance(obj, property) else _function(obj))
    assert doc, f"{name} has no docstring"
    summary = doc.strip().splitlines()[0]
    assert summary.endswith((".", ":", "!")) or summary.startswith(("``", ">>>")), (
        f"{name}: the summary line should be a sentence: {summary!r}"
    )


@pytest.mark.parametrize(
    ("name", "obj"), public_objects(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_parameters_are_documented_google_style(name: str, obj: Any) -> None:
    """Public functions and classes with parameters describe them in an `Args:` section."""
    if isinstance(obj, property):
        return
    target = _function(obj)
    signature = inspect.signature(target.__init__ if inspect.isclass(target) else target)
    params = [
        p
        for p in signature.parameters.values()
        if p.name not in {"self", "cls"}
        and p.kind is not p.VAR_KEYWORD
        and p.kind is not p.VAR_POSITIONAL
    ]
    if not params or (inspect.isclass(target) and _is_attrs_value(target)):
        return  # attrs values document their fields under Attributes:
    doc = inspect.getdoc(target) or ""
    if inspect.isclass(target) and issubclass(target, BaseException):
        return  # errors are raised by cfinv, not built by users
    assert "Args:" in doc, f"{name} takes {[p.name for p in params]} but has no Args: section"
    documented = set(
        re.findall(r"^\s{4}(\w+)(?: \([^)]*\))?:", doc.split("Args:", 1)[1], re.MULTILINE)
    )
    missing = [p.name for p in params if p.name not in documented]
    assert not missing, f"{name}: parameters not described under Args: {missing}"


def _is_attrs_value(cls: type) -> bool:
    return hasattr(cls, "__attrs_attrs__")


def test_reference_pages_show_every_public_name() -> None:
    """docs/reference lists every public name, so the generated API reference is complete."""
    reference = "\n".join(p.read_text() for p in (ROOT / "docs" / "reference").glob("*.md"))
    shown = set(re.findall(r"^::: cfinv(?:\.\w+)*\.(\w+)", reference, re.MULTILINE))
    missing = sorted(set(cfinv.__all__) - shown)
    assert not missing, f"not in docs/reference: {missing}"
    missing_testing = sorted(set(cfinv.testing.__all__) - shown)
    assert not missing_testing, f"not in docs/reference/testing.md: {missing_testing}"


def test_cli_reference_covers_every_option() -> None:
    """docs/reference/cli.md mentions every command and option the parser accepts."""
    from cfinv.cli._parser import build_parser

    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    parser = build_parser()
    options: set[str] = set()
    commands: set[str] = set()

    def walk(p: Any) -> None:
        for action in p._actions:
            if action.help == "==SUPPRESS==":
                continue
            options.update(s for s in action.option_strings if s.startswith("--"))
            if action.choices and hasattr(action, "_name_parser_map"):
                for name, sub in action._name_parser_map.items():
                    commands.add(name)
                    walk(sub)

    walk(parser)
    missing = sorted(o for o in options | commands if f"`{o}" not in page)
    assert not missing, f"not in docs/reference/cli.md: {missing}"
