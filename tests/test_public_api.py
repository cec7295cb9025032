"""Specs for the facade: what `import cfinv` offers."""

from __future__ import annotations

import inspect
import subprocess
import sys

import cfinv


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted, and every public error class is exported."""
    assert sorted(cfinv.__all__) == cfinv.__all__
    for name in cfinv.errors.__all__:
        assert name in cfinv.__all__, name
    for name in cfinv.__all__:
        assert hasattr(cfinv, name), name


def test_every_public_object_has_a_docstring() -> None:
    """Each exported object documents itself."""
    for name in cfinv.__all__:
        assert inspect.getdoc(getattr(cfinv, name)), name


def test_version_comes_from_metadata() -> None:
    """cfinv.__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert version("cfinv") == cfinv.__version__


def test_import_does_not_load_botocore() -> None:
    """`import cfinv` stays light: botocore and aiobotocore load only when needed."""
    code = "import sys, cfinv; print(sorted(m for m in sys.modules if 'boto' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
