"""
The docs' figures: drawn by the build (mkdocs.yml's hook) from a run against the emulator.

The hook is run the way ``mkdocs build`` runs it: mkdocs.yml is loaded and its
plugins' ``on_files`` event fired, so these tests fail if the hook is no longer
registered.  One build serves every test of the module (it takes a few seconds).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("mkdocs")

from mkdocs.config import load_config
from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ["deploy-timeline.svg", "poll-schedule.svg", "live-display.svg"]


def build_figures() -> tuple[dict[str, bytes], dt.datetime]:
    """Fire mkdocs.yml's ``on_files`` like a build does; the generated figures and the start."""
    config = load_config(str(ROOT / "mkdocs.yml"))
    started = dt.datetime.now(dt.timezone.utc)
    files = config.plugins.on_files(Files([]), config=config)
    made = {f.src_uri: f.content_bytes for f in files if f.src_uri.startswith("figures/")}
    return {name.removeprefix("figures/"): content for name, content in made.items()}, started


@pytest.fixture(scope="module")
def build() -> tuple[dict[str, bytes], dt.datetime]:
    """One build's figures (by file name) and when the build started."""
    return build_figures()


@pytest.fixture(scope="module")
def figures(build: tuple[dict[str, bytes], dt.datetime]) -> dict[str, bytes]:
    """The figures of that build, by file name."""
    return build[0]


def svg(content: bytes) -> ET.Element:
    """The parsed SVG (fails the test if it is not well-formed)."""
    root = ET.fromstring(content)  # noqa: S314 - our own build's output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def ids(root: ET.Element) -> set[str]:
    return {element.attrib["id"] for element in root.iter() if "id" in element.attrib}


def texts(root: ET.Element) -> str:
    return " ".join("".join(element.itertext()) for element in root.iter())


def manifest(figures: dict[str, bytes]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(figures["manifest.json"])
    return document


def test_the_build_makes_every_figure_and_says_so(
    build: tuple[dict[str, bytes], dt.datetime],
) -> None:
    """The build adds each figure and a manifest with this build's time and their hashes."""
    figures, started = build
    document = manifest(figures)
    assert sorted([*FIGURES, "manifest.json"]) == sorted(figures)
    assert (
        started <= dt.datetime.fromisoformat(document["made"]) <= dt.datetime.now(dt.timezone.utc)
    )
    assert re.fullmatch(r"[0-9a-f]{32}", document["build"])
    for name in FIGURES:
        content = figures[name]
        expected = {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        assert expected == document["figures"][name]
        svg(content)


def test_the_pages_show_the_figures() -> None:
    """The home and limits pages show the timeline; polling and the display have theirs."""
    shown = {
        "index.md": "figures/deploy-timeline.svg",
        "reference/limits.md": "../figures/deploy-timeline.svg",
        "how-to/progress-events.md": "../figures/poll-schedule.svg",
        "reference/cli.md": "../figures/live-display.svg",
        "tutorial.md": "figures/live-display.svg",
    }
    for page, figure in shown.items():
        assert f"]({figure})" in (ROOT / "docs" / page).read_text(encoding="utf-8"), page


def test_the_timeline_has_a_bar_per_invalidation_and_the_ceiling(
    figures: dict[str, bytes],
) -> None:
    """One bar per batch of the run and one for the other writer, the 3,000 line, the shares."""
    root = svg(figures["deploy-timeline.svg"])
    found = ids(root)
    batches = sorted(i for i in found if re.fullmatch(r"batch-\d+", i))
    # 9,000 files, 1,200 held by another writer at first: at least three full batches.
    assert len(batches) >= 3
    assert [f"batch-{n}" for n in range(len(batches))] == sorted(
        batches, key=lambda i: int(i.split("-")[1])
    )
    assert {f"{b}-seen" for b in batches} <= found  # the poll that saw each done
    assert {"another-writer", "ceiling", "other-share", "our-share"} <= found
    assert "3,000" in texts(root)


def test_the_poll_schedule_contrasts_botocore(figures: dict[str, bytes]) -> None:
    """PollPolicy's pauses and poll moments, beside botocore's fixed 20 s waiter."""
    root = svg(figures["poll-schedule.svg"])
    assert {"cfinv-pauses", "botocore-pauses", "poll-moments"} <= ids(root)
    words = texts(root)
    assert "botocore (30)" in words
    assert "botocore gives up" in words


def test_the_live_display_is_a_recording_of_the_run(figures: dict[str, bytes]) -> None:
    """The display as rich recorded it: the distribution, what is in flight, how it ended."""
    words = texts(svg(figures["live-display.svg"])).replace("\xa0", " ")
    assert "EDFDVBD6EXAMPLE" in words
    assert "in flight" in words
    assert "waits for capacity" in words
    assert "9,012/9,012 paths" in words
    assert "done" in words


def test_figures_are_reproducible(figures: dict[str, bytes]) -> None:
    """A second build draws the same bytes (seeded run, virtual time, fixed ids, no date)."""
    again, _ = build_figures()
    assert {name: figures[name] for name in FIGURES} == {name: again[name] for name in FIGURES}
    assert manifest(figures)["build"] != manifest(again)["build"]


def test_python_names_link_to_pythons_docs_where_the_inventory_is_here() -> None:
    """With Debian's python3.X-doc (.ci/run installs it), mkdocstrings gets its inventory."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("inventories", ROOT / "docs/hooks/inventories.py")
    assert spec is not None
    assert spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    inventory = hook.local_python_inventory()
    if inventory is None:
        pytest.skip("no python3.X-doc package here: the site builds without links to Python's docs")
    config = load_config(str(ROOT / "mkdocs.yml"))
    config.plugins.on_config(config)  # the hook runs first (priority), then mkdocstrings
    handlers = config.plugins["mkdocstrings"].config.handlers
    assert {"url": inventory.as_uri(), "base_url": "https://docs.python.org/3/"} in handlers[
        "python"
    ]["inventories"]
