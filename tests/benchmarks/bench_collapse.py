"""
Benchmark: the exact least-collateral cover on real deploys, against s3deploy and ``/*``.

For every deploy of every site under SITES (``<site>/<n>.tree.txt`` and
``<n>.changed.txt``, raw UTF-8, encoded here with ``normalize_path``), with
``index_document="index.html"`` (as s3deploy maps ``x/index.html`` to ``x/``):

* ``optimal_cover`` at budgets 8, 15, 50 and 100, without and with
  ``max_wildcards=15``: billable paths, wildcards, collateral (unchanged URLs,
  index aliases included, that a wildcard throws out of the cache) and time;
* s3deploy's strategy, ported from ``normalizeInvalidationPaths`` in
  bep/s3deploy's ``lib/cloudfront.go``: clean each path, map ``x/index.html``
  to ``x/``, dedupe; while more than 8 remain, from the deepest level up,
  replace each path deeper than the level by ``/<its directory's parent>/*``
  (its parent directory's parent, as the code does), else ``/*``.  Its
  collateral is measured the same way, and so are the changed URLs it leaves
  uncovered ("missed": it never sends ``x/index.html`` itself);
* ``/*``: every unchanged URL.

Printed: one line per deploy, totals per site and overall, the optimum's total
collateral as a share of s3deploy's per budget (the issue's targets: at most
65 % at 15 and 30 % at 50), the slowest deploy per budget, and the figures for
a default budget policy: for prices per collateral object, the budget that
minimises ``$0.005 * billable + price * collateral`` per deploy (from
``least_collateral`` up to 100 paths, with at most 15 wildcards), next to
fixed budgets.

Run with ``python tests/benchmarks/bench_collapse.py [SITES]`` (default
``/work/shared/sites``).  Not collected by pytest.
"""

from __future__ import annotations

import argparse
import bisect
import posixpath
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from cfinv._cover import least_collateral, optimal_cover
from cfinv.paths import normalize_path, plan_paths

BUDGETS = (8, 15, 50, 100)
WILDCARD_CAP = 15
INDEX = "index.html"
PRICE_PER_PATH = 0.005
PRICES = (0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001)
TOP = "\U0010ffff"


def read(path: Path) -> set[str]:
    return {normalize_path(line) for line in path.read_text("utf-8").splitlines() if line}


def deploys(sites: Path) -> list[tuple[str, int, set[str], set[str]]]:
    found = []
    for site in sorted(p for p in sites.iterdir() if p.is_dir()):
        numbers = sorted(int(p.name.split(".")[0]) for p in site.glob("*.tree.txt"))
        found += [
            (site.name, n, read(site / f"{n}.changed.txt"), read(site / f"{n}.tree.txt"))
            for n in numbers
        ]
    return found


def with_aliases(urls: set[str]) -> set[str]:
    suffix = "/" + INDEX
    return urls | {url[: -len(INDEX)] for url in urls if url.endswith(suffix)}


def s3deploy(changed: set[str], threshold: int = 8) -> list[str]:
    """The paths s3deploy sends for ``changed`` (a port of normalizeInvalidationPaths)."""
    normalized: list[str] = []
    max_levels = 0
    for raw in sorted(changed):
        path = posixpath.normpath(raw)
        max_levels = max(max_levels, path.count("/"))
        if path.endswith(INDEX):
            directory = posixpath.dirname(path)
            normalized.append(directory if directory.endswith("/") else directory + "/")
        else:
            normalized.append(path)
    normalized = sorted(dict.fromkeys(normalized))
    if len(normalized) > threshold:
        for level in range(max_levels, 0, -1):
            for i, path in enumerate(normalized):
                if path.count("/") > level:
                    parts = posixpath.dirname(path).lstrip("/").split("/")
                    if len(parts) > 1:
                        parts = parts[:-1]
                    normalized[i] = "/" + posixpath.join(*parts) + "/*"
            normalized = list(dict.fromkeys(normalized))
            if len(normalized) <= threshold:
                break
        if len(normalized) > threshold:
            return ["/*"]
    return ["/*"] if "/*" in normalized else normalized


def matched(paths: list[str], ordered: list[str]) -> int:
    """How many URLs of sorted ``ordered`` the paths match (each once)."""
    hit: set[int] = set()
    for path in paths:
        if path.endswith("*"):
            lo = bisect.bisect_left(ordered, path[:-1])
            hi = bisect.bisect_left(ordered, path[:-1] + TOP)
            hit.update(range(lo, hi))
        else:
            i = bisect.bisect_left(ordered, path)
            if i < len(ordered) and ordered[i] == path:
                hit.add(i)
    return len(hit)


def main(argv: list[str] | None = None) -> int:  # noqa: C901, PLR0912, PLR0915 - one report
    """Run every deploy and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sites", nargs="?", type=Path, default=Path("/work/shared/sites"))
    args = parser.parse_args(argv)
    if not args.sites.is_dir():
        print(f"no sites at {args.sites}")
        return 1
    # totals[site][column] = collateral; columns: "opt B", "cap B", "s3deploy", "/*"
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    slowest: dict[str, float] = defaultdict(float)
    curves: list[tuple[list[int], int]] = []
    header = "site            n  tree  chg |" + "".join(
        f" B={b:<3} bill/wc/coll ms  cap15 wc/coll ms |" for b in BUDGETS
    )
    print(header + " s3deploy bill/coll/missed | /* coll")
    found = deploys(args.sites)
    for site, number, changed, tree in found:
        changed_urls = with_aliases(changed)
        unchanged = sorted(with_aliases(tree) - changed_urls)
        row = f"{site:<15} {number:>2} {len(tree):>5} {len(changed_urls):>4} |"
        for budget in BUDGETS:
            for cap in (None, WILDCARD_CAP):
                started = time.perf_counter()
                cover = optimal_cover(
                    changed, tree, max_paths=budget, max_wildcards=cap, index_document=INDEX
                )
                elapsed = time.perf_counter() - started
                column = f"{'opt' if cap is None else 'cap'} {budget}"
                slowest[column] = max(slowest[column], elapsed)
                totals[site][column] += cover.collateral
                if cap is None:
                    row += (
                        f" {cover.billable:>3}/{cover.wildcards:>2}/{cover.collateral:>5}"
                        f" {elapsed * 1000:>3.0f}"
                    )
                else:
                    row += f"  {cover.wildcards:>2}/{cover.collateral:>5} {elapsed * 1000:>3.0f} |"
        theirs = s3deploy(changed)
        theirs_collateral = matched([p for p in theirs if p.endswith("*")], unchanged)
        missed = len(changed_urls) - matched(theirs, sorted(changed_urls))
        totals[site]["s3deploy"] += theirs_collateral
        totals[site]["/*"] += len(unchanged)
        # Tree paths only, no index aliases (how the reference measured).
        plain_unchanged = sorted(tree - changed)
        totals[site]["s3deploy plain"] += matched(
            [p for p in theirs if p.endswith("*")], plain_unchanged
        )
        for budget in BUDGETS:
            plain = optimal_cover(changed, tree, max_paths=budget)
            totals[site][f"plain {budget}"] += plain.collateral
        row += f" {len(theirs):>3}/{theirs_collateral:>5}/{missed:>4} | {len(unchanged):>5}"
        print(row, flush=True)
        started = time.perf_counter()
        curve = list(
            least_collateral(
                changed, tree, max_paths=100, max_wildcards=WILDCARD_CAP, index_document=INDEX
            )
        )
        slowest["curve 1..100"] = max(slowest["curve 1..100"], time.perf_counter() - started)
        curves.append((curve, len(changed_urls)))

    columns = [f"{kind} {b}" for b in BUDGETS for kind in ("opt", "cap")] + ["s3deploy", "/*"]
    columns += [f"plain {b}" for b in BUDGETS] + ["s3deploy plain"]
    print("\nTotal collateral per site (opt: no wildcard cap; cap: at most 15 wildcards)")
    print("(plain: tree paths only, no index aliases, for the optimum and for s3deploy)")
    print(f"{'site':<16}" + "".join(f"{c:>15}" for c in columns))
    overall: dict[str, int] = defaultdict(int)
    for site, figures in totals.items():
        print(f"{site:<16}" + "".join(f"{figures[c]:>15}" for c in columns))
        for column in columns:
            overall[column] += figures[column]
    print(f"{'overall':<16}" + "".join(f"{overall[c]:>15}" for c in columns))

    print(
        "\nThe optimum's total collateral as a share of s3deploy's"
        " (targets: 65 % at 15, 30 % at 50).  With aliases the optimum covers /a/ AND"
        " /a/index.html; s3deploy sends /a/ only (see 'missed')."
    )
    for budget in BUDGETS:
        share = overall[f"opt {budget}"] / overall["s3deploy"]
        capped = overall[f"cap {budget}"] / overall["s3deploy"]
        bare = overall[f"plain {budget}"] / overall["s3deploy plain"]
        print(
            f"  budget {budget:>3}: {share:6.1%} (at most 15 wildcards: {capped:6.1%});"
            f" tree paths only, no aliases: {bare:6.1%}"
        )

    print("\nSlowest deploy per budget (seconds)")
    for column, seconds in sorted(slowest.items()):
        print(f"  {column:<14} {seconds:.3f}")

    print(
        "\nDefault budget policy: per deploy, the budget k <= 100 (at most 15 wildcards) that"
        " minimises $0.005 * k + price * collateral(k)"
    )
    print(
        f"{'policy':<24}{'paths':>8}{'path $':>9}{'collateral':>12}"
        f"{'% of B=8':>10}{'median k':>10}{'max k':>7}"
    )

    def line(name: str, chosen: list[int]) -> None:
        paths = sum(
            min(k, changed_count) for k, (_c, changed_count) in zip(chosen, curves, strict=True)
        )
        collateral = sum(
            curve[k - 1] for k, (curve, _n) in zip(chosen, curves, strict=True) if curve
        )
        base = sum(curve[7] for curve, _n in curves if curve)
        print(
            f"{name:<24}{paths:>8}{paths * PRICE_PER_PATH:>9.2f}{collateral:>12}"
            f"{collateral / base:>10.1%}{statistics.median(chosen):>10}{max(chosen):>7}"
        )

    for budget in BUDGETS:
        line(f"fixed {budget}", [budget] * len(curves))
    for price in PRICES:
        chosen = []
        for curve, _n in curves:
            costs = [PRICE_PER_PATH * (k + 1) + price * c for k, c in enumerate(curve)] or [0.0]
            chosen.append(costs.index(min(costs)) + 1)
        line(f"price {price:g}/object", chosen)
    for slack in (0.1, 0.25, 0.5):
        chosen = []
        for curve, _n in curves:
            target = curve[-1] * (1 + slack) if curve else 0
            chosen.append(next((k + 1 for k, c in enumerate(curve) if c <= target), 1))
        line(f"within {slack:.0%} of B=100", chosen)

    # What cfinv does by default: plan_paths with the tree and no max_paths.
    billable = collateral = 0
    worst = 0.0
    for _site, _n, changed, tree in found:
        started = time.perf_counter()
        plan = plan_paths(changed, tree=tree, index_document=INDEX)
        worst = max(worst, time.perf_counter() - started)
        billable += plan.billable
        collateral += plan.collateral or 0
    print(
        f"{'cfinv default (plan_paths)':<24}{billable:>8}{billable * PRICE_PER_PATH:>9.2f}"
        f"{collateral:>12}   slowest deploy {worst:.3f} s (tree read, planned, chunked)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
