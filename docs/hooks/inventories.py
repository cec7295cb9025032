# ruff: noqa: INP001 - an mkdocs hook, loaded by path (mkdocs.yml `hooks:`), not a package
"""
Cross-references to Python's documentation, from an inventory on this machine.

mkdocstrings links names such as ``asyncio.Event`` through an inventory
(``objects.inv``).  Python's is published at docs.python.org, which the build
machines cannot reach, so it is read from Debian's ``python3.11-doc`` package
(``.ci/run`` installs it) and the links point at docs.python.org.  Without the
package the site builds the same, without those links.  aiobotocore publishes
no inventory anywhere reachable, so its names stay unlinked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.plugins import event_priority

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

#: Where Debian's python3.X-doc packages put Python's inventory.
_DEBIAN_DOCS = Path("/usr/share/doc")
_INVENTORIES = "python3*/html/objects.inv"
_PYTHON_DOCS = "https://docs.python.org/3/"


def local_python_inventory() -> Path | None:
    """The newest Python inventory a Debian docs package installed here, if any."""
    found = sorted(_DEBIAN_DOCS.glob(_INVENTORIES))
    return found[-1] if found else None


@event_priority(100)  # before mkdocstrings reads its handlers' inventories
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Add Python's inventory to mkdocstrings' Python handler, where this machine has it."""
    inventory = local_python_inventory()
    if inventory is None:
        return config
    handlers = config.plugins["mkdocstrings"].config.handlers
    python = handlers.setdefault("python", {})
    inventories = python.setdefault("inventories", [])
    inventories.append({"url": inventory.as_uri(), "base_url": _PYTHON_DOCS})
    return config
