"""
Benchmark: plan_paths() against the floor sorted(set(paths)) on 1,000,000 deploy paths.

Run with ``python tests/benchmarks/bench_plan.py [--paths N] [--repeat R] [--seed S]``.
Prints one JSON line: both times (best of R), their ratio, and the peak memory
traced while planning.  Not collected by pytest (the file name does not start
with ``test_``).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING

from cfinv import plan_paths

if TYPE_CHECKING:
    from collections.abc import Callable

_SECTIONS = ["blog", "docs", "assets", "img", "products", "static", "en", "de", "fr", "api"]
_WORDS = [
    "index",
    "about",
    "pricing",
    "release-notes",
    "getting-started",
    "faq",
    "team",
    "changelog",
    "install",
    "usage",
    "guide",
    "overview",
    "reference",
    "news",
    "careers",
]
_EXTS = [".html", ".css", ".js", ".png", ".jpg", ".svg", ".json", ".woff2", ".webp"]
_ODD = ["café", "naïve résumé", "日本語", "my file", "Ünïcödé", "a b c", "straße"]


def build_paths(count: int, seed: int) -> list[str]:
    """Return ``count`` realistic changed paths of a static site deploy."""
    rng = random.Random(seed)
    unique_target = int(count * 0.8)  # ~20% of the input repeats an earlier path
    unique: list[str] = []
    for i in range(unique_target):
        depth = rng.randint(1, 5)
        parts = [rng.choice(_SECTIONS)]
        parts += [f"{rng.choice(_WORDS)}-{rng.randrange(200)}" for _ in range(depth - 1)]
        odd = rng.random() < 0.01  # ~1% non-ASCII or spaced names
        name = f"{rng.choice(_ODD)} {i}" if odd else f"{rng.choice(_WORDS)}-{i}"
        unique.append("/" + "/".join(parts) + "/" + name + rng.choice(_EXTS))
    # A few wildcards, as a deploy that rebuilt whole sections would send.
    unique += ["/fr/guide-7/*", "/static/install-1*", "/api/*", "/docs/faq-199/*", "/img/team-3/*"]
    paths = unique + [rng.choice(unique) for _ in range(count - len(unique))]
    rng.shuffle(paths)
    return paths


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, with the garbage collector as in production."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    paths = build_paths(args.paths, args.seed)
    plan = plan_paths(paths)

    # Interleave the two so that machine noise hits both alike.
    floor_times, plan_times = [], []
    for _ in range(args.repeat):
        floor_times.append(best_time(lambda: sorted(set(paths)), 1))
        plan_times.append(best_time(lambda: plan_paths(paths), 1))
    floor, planned = min(floor_times), min(plan_times)

    gc.collect()
    tracemalloc.start()
    plan_paths(paths)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    result = {
        "benchmark": "plan_paths",
        "paths": len(paths),
        "unique_after_normalising": plan.billable + plan.covered_dropped,
        "duplicates_dropped": plan.duplicates_dropped,
        "covered_dropped": plan.covered_dropped,
        "batches": len(plan.batches),
        "floor_sorted_set_s": round(floor, 4),
        "plan_paths_s": round(planned, 4),
        "ratio": round(planned / floor, 3),
        "plan_peak_traced_mib": round(peak / 2**20, 1),
        "process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
