"""
Benchmark: how long the exact cover takes on large random sites.

The real deploys of ``bench_collapse.py`` are shaped by their generators; this
one builds random sites of 13,000 paths (4 to 6 directory levels, fan-outs of
3 to 20, half of the pages ``index.html`` with ``--index-document``, which
adds a directory URL for each) and changes 5 to 95 % of them at random, the
hardest shape for the program: every directory holds changed and unchanged
pages, so every node of the trie is a choice.

For each site and each setting (a budget of 15, 50 or 100 paths with at most
15 wildcards, 100 paths without a cap, and the default policy: the cheapest
of all budgets up to 100 with at most 15 wildcards), it prints the seconds
one cover takes (the best of ``--repeat`` runs), and the slowest per setting.

With ``--against OTHER/_cover.py`` (a copy of ``cfinv/_cover.py`` from another
revision, e.g. ``git show REV:cfinv/_cover.py > /tmp/old_cover.py``) it times
that module too, in the same run, checks that both choose the same cover and
prints the ratio.

Run with ``python tests/benchmarks/bench_cover_scale.py [--sites 10] [--paths
13000] [--index-document] [--against FILE]``.  Not collected by pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfinv import _cover

if TYPE_CHECKING:
    from types import ModuleType

FRACTIONS = (0.05, 0.2, 0.5, 0.8, 0.95)
CAP = 15
SETTINGS: tuple[tuple[str, int, int | None], ...] = (
    ("15/cap15", 15, CAP),
    ("50/cap15", 50, CAP),
    ("100/cap15", 100, CAP),
    ("100/no cap", 100, None),
    ("default", 100, CAP),
)


def site(seed: int, size: int, *, index: bool) -> tuple[set[str], list[str], float]:
    """A random site of ``size`` paths and a random change to it (seeded)."""
    rng = random.Random(seed)
    depth = rng.randint(4, 6)
    paths: set[str] = set()
    while len(paths) < size:
        parts = [
            f"d{level}{rng.randrange(rng.choice((3, 5, 8, 20)))}"
            for level in range(rng.randint(1, depth))
        ]
        page = "index.html" if index and rng.random() < 0.5 else f"p{rng.randrange(200)}.html"
        paths.add("/" + "/".join(parts) + "/" + page)
    fraction = FRACTIONS[seed % len(FRACTIONS)]
    changed = {path for path in sorted(paths) if rng.random() < fraction}
    return changed, sorted(paths), fraction


def price(paths: int, collateral: int) -> float:
    return 0.005 * paths + 0.0005 * collateral


def cover(module: ModuleType, setting: tuple[str, int, int | None], job: dict[str, Any]) -> Any:
    name, budget, cap = setting
    if name == "default":
        return module.cheapest_cover(**job, max_paths=budget, max_wildcards=cap, price=price)
    return module.optimal_cover(**job, max_paths=budget, max_wildcards=cap)


def timed(
    module: ModuleType, setting: tuple[str, int, int | None], job: dict[str, Any], repeat: int
) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = cover(module, setting, job)
        best = min(best, time.perf_counter() - started)
    return best, result


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("cfinv_cover_other", path)
    if spec is None or spec.loader is None:
        msg = f"cannot load {path}"
        raise SystemExit(msg)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=10, help="how many random sites (10)")
    parser.add_argument("--paths", type=int, default=13_000, help="paths per site (13000)")
    parser.add_argument("--index-document", action="store_true", help="index.html pages")
    parser.add_argument("--repeat", type=int, default=2, help="runs per cover, best kept (2)")
    parser.add_argument("--against", type=Path, help="another revision's _cover.py")
    args = parser.parse_args(argv)
    other = load(args.against) if args.against else None
    if other is not None and not hasattr(other, "cheapest_cover"):
        print("(the other module has no cheapest_cover: the default policy is timed here only)")

    print(
        f"{args.sites} random sites of {args.paths:,} paths"
        f"{', half index.html, index_document' if args.index_document else ''};"
        " seconds per cover (best of"
        f" {args.repeat}){', this / other' if other else ''}"
    )
    print(
        f"{'site':>4} {'changed':>8} {'URLs':>6} | " + " | ".join(f"{s[0]:>13}" for s in SETTINGS)
    )
    slowest = dict.fromkeys((s[0] for s in SETTINGS), 0.0)
    totals = dict.fromkeys((s[0] for s in SETTINGS), (0.0, 0.0))
    for seed in range(args.sites):
        changed, tree, _fraction = site(seed, args.paths, index=args.index_document)
        index = "index.html" if args.index_document else None
        job: dict[str, Any] = {"changed": changed, "tree": tree, "index_document": index}
        urls = len(
            _cover._universe(
                changed, tree, max_paths=None, max_wildcards=None, index_document=index
            )[1]
        )
        cells = []
        for setting in SETTINGS:
            seconds, mine = timed(_cover, setting, job, args.repeat)
            slowest[setting[0]] = max(slowest[setting[0]], seconds)
            cell = f"{seconds:>6.2f}"
            if other is not None and (setting[0] != "default" or hasattr(other, "cheapest_cover")):
                theirs_seconds, theirs = timed(other, setting, job, args.repeat)
                if (theirs.paths, theirs.collateral) != (mine.paths, mine.collateral):
                    print(f"site {seed}, {setting[0]}: the covers differ")
                    return 1
                mine_total, theirs_total = totals[setting[0]]
                totals[setting[0]] = (mine_total + seconds, theirs_total + theirs_seconds)
                cell += f" /{theirs_seconds:>5.2f}"
            cells.append(f"{cell:>13}")
        print(f"{seed:>4} {len(changed):>8} {urls:>6} | " + " | ".join(cells), flush=True)
    print("slowest" + " " * 15 + " | ".join(f"{slowest[s[0]]:>13.2f}" for s in SETTINGS))
    if other is not None:
        ratios = [
            f"{totals[s[0]][1] / totals[s[0]][0]:>12.1f}x" if totals[s[0]][0] else f"{'-':>13}"
            for s in SETTINGS
        ]
        print("other / this (total time)" + " | ".join(ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
