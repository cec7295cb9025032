"""
Benchmark: cfinv under the conditions real deploys meet, against a lower bound.

Each scenario runs on the emulator with CloudFront's default limits and create
rate, a completion latency of ``--latency`` seconds (5 by default) and SigV4
checks, on a virtual clock: the makespan is in emulated seconds, so it
measures scheduling (when batches go out, how soon completion is seen), not
this machine's speed, and repeats exactly for a seed.  ``--clock real`` runs
the same on the wall clock instead (slower; figures vary a little).

Scenarios:

(a) another writer holds 1,200 files, completing at 1.1 x the latency, while
    cfinv deploys 6,900 files and 4 wildcards;
(b) 60 wildcards and 200 files;
(c) 8 distributions x 4,000 files through ``invalidate_many``;
(d) another writer creates a 300-file invalidation every half latency
    throughout, while cfinv deploys 6,900 files and 4 wildcards;
(e) an endpoint whose per-request cap is 3,000 paths in all (it answers 413
    above), while cfinv deploys 7,000 files and 20 wildcards.

Lower bound: the larger of the fluid capacity bound (file-seconds, other
writers' included, over 3,000 files; wildcard-seconds over 15 wildcards; at
least one latency) and the create-rate bound (the creates beyond the burst at
0.5 per second, then one latency).  Printed per scenario: makespan / lower
bound, creates, status calls (Get and List) per invalidation, refusals
(``TooManyInvalidationsInProgress`` and ``BatchTooLarge`` answers to cfinv),
and whether every path went out in exactly one invalidation.

Run with ``python tests/benchmarks/bench_scenarios.py [--latency 5] [--seed 1]
[--clock virtual|real] [--only abcde]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import random
import sys
import time
from typing import TYPE_CHECKING, Any

from aiobotocore.session import AioSession

from cfinv import Invalidator, Limits, Runtime, invalidate_many
from cfinv.testing import ApiError, CloudFrontEmulator, VirtualClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine

LIMITS = Limits()
RATE, BURST = 0.5, 5


def files(prefix: str, count: int) -> list[str]:
    """``count`` file paths under ``prefix``."""
    return [f"/{prefix}/{i // 100}/page-{i}.html" for i in range(count)]


def wildcards(prefix: str, count: int) -> list[str]:
    """``count`` wildcard paths under ``prefix``."""
    return [f"/{prefix}-{i:02d}/*" for i in range(count)]


def lower_bound(
    latency: float,
    deploys: list[tuple[int, int]],
    *,
    other_file_seconds: float = 0.0,
    other_share: float = 0.0,
) -> float:
    """
    The larger of the capacity bound and the create-rate bound, in seconds.

    Args:
        latency: Seconds from create to completion.
        deploys: (files, wildcards) per distribution.
        other_file_seconds: File-seconds other writers hold, in all.
        other_share: Files other writers hold on average throughout.
    """
    capacity = max(
        max(
            latency,
            (f * latency + other_file_seconds) / (LIMITS.files - other_share),
            w * latency / LIMITS.wildcards,
        )
        for f, w in deploys
    )
    creates = sum(
        max(math.ceil(f / LIMITS.files), math.ceil(w / LIMITS.wildcards)) for f, w in deploys
    )
    rate = max(0, creates - BURST) / RATE + latency
    return max(capacity, rate)


@contextlib.asynccontextmanager
async def emulated(
    clock: str, latency: float, seed: int, limits: Limits = LIMITS
) -> AsyncIterator[
    tuple[CloudFrontEmulator, Runtime, Callable[[float], Coroutine[Any, Any, None]]]
]:
    """An emulator, the runtime to give cfinv, and a sleep, on the chosen clock."""
    if clock == "virtual":
        async with VirtualClock() as virtual:
            runtime = virtual.runtime(seed=seed)
            async with CloudFrontEmulator(latency=latency, limits=limits, runtime=runtime) as emu:
                yield emu, runtime, virtual.sleep
    else:
        runtime = Runtime.seeded(seed)
        async with CloudFrontEmulator(latency=latency, limits=limits, runtime=runtime) as emu:
            yield emu, runtime, asyncio.sleep


def figures(
    emu: CloudFrontEmulator, ours: set[str], sent: list[str], makespan: float, bound: float
) -> dict[str, Any]:
    """What the emulator saw of cfinv's calls, and the ratio to the bound."""
    calls = list(emu.calls)
    by_operation = collections.Counter(
        c.operation.removesuffix("ForDistributionTenant") for c in calls
    )
    refusals = collections.Counter(
        c.error_code
        for c in calls
        if c.operation == "CreateInvalidation"
        and c.error_code in {"TooManyInvalidationsInProgress", "BatchTooLarge"}
    )
    created = [
        p
        for dist in emu.distributions
        for inv in emu.invalidations(dist)
        if inv.id in ours
        for p in inv.batch.paths.items
    ]
    status = by_operation["GetInvalidation"] + by_operation["ListInvalidations"]
    return {
        "makespan_s": round(makespan, 2),
        "lower_bound_s": round(bound, 2),
        "makespan_over_bound": round(makespan / bound, 3),
        "invalidations": len(ours),
        "creates": by_operation["CreateInvalidation"],
        "status_calls_per_invalidation": round(status / len(ours), 2) if ours else None,
        "refusals": dict(refusals),
        "every_path_once": collections.Counter(created) == collections.Counter(sent),
    }


def session(emu: CloudFrontEmulator) -> AioSession:
    """An aiobotocore session with the emulator's credentials."""
    kwargs = emu.client_kwargs()
    made = AioSession()
    made.set_credentials(kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"])
    return made


async def one_deploy(
    emu: CloudFrontEmulator, runtime: Runtime, paths: list[str]
) -> tuple[float, set[str]]:
    """One Invalidator with its defaults: (makespan, ids created)."""
    dist = emu.distributions[0]
    inv = Invalidator(dist, endpoint_url=emu.endpoint_url, session=session(emu), runtime=runtime)
    start = runtime.monotonic()
    report = await inv.invalidate(paths)
    assert report.completed
    return runtime.monotonic() - start, {i.id for i in report.invalidations}


async def scenario_a(clock: str, latency: float, seed: int) -> dict[str, Any]:
    """Another writer holds 1,200 files a little longer than cfinv's latency."""
    paths = files("docs", 6900) + wildcards("section", 4)
    async with emulated(clock, latency, seed) as (emu, runtime, _):
        dist = emu.create_distribution()
        emu.create_invalidation(dist, files("other", 1200), latency=1.1 * latency)
        makespan, ours = await one_deploy(emu, runtime, paths)
        bound = lower_bound(latency, [(6900, 4)], other_file_seconds=1200 * 1.1 * latency)
        return figures(emu, ours, paths, makespan, bound)


async def scenario_b(clock: str, latency: float, seed: int) -> dict[str, Any]:
    """Sixty wildcards (four times the limit) and 200 files."""
    paths = wildcards("section", 60) + files("docs", 200)
    async with emulated(clock, latency, seed) as (emu, runtime, _):
        emu.create_distribution()
        makespan, ours = await one_deploy(emu, runtime, paths)
        return figures(emu, ours, paths, makespan, lower_bound(latency, [(200, 60)]))


async def scenario_c(clock: str, latency: float, seed: int) -> dict[str, Any]:
    """Eight distributions of 4,000 files each, on one client and one create pacer."""
    async with emulated(clock, latency, seed) as (emu, runtime, _):
        targets = {emu.create_distribution(): files(f"site{n}", 4000) for n in range(8)}
        start = runtime.monotonic()
        reports = await invalidate_many(
            targets, endpoint_url=emu.endpoint_url, session=session(emu), runtime=runtime
        )
        makespan = runtime.monotonic() - start
        assert all(r.completed for r in reports.values())
        ours = {i.id for r in reports.values() for i in r.invalidations}
        sent = [p for paths in targets.values() for p in paths]
        bound = lower_bound(latency, [(4000, 0)] * 8)
        return figures(emu, ours, sent, makespan, bound)


async def scenario_d(clock: str, latency: float, seed: int) -> dict[str, Any]:
    """Another writer creates 300 files every half latency, all along."""
    paths = files("docs", 6900) + wildcards("section", 4)
    async with emulated(clock, latency, seed) as (emu, runtime, sleep):
        dist = emu.create_distribution()
        stop = asyncio.Event()
        created = 0

        async def other_writer() -> None:
            nonlocal created
            while not stop.is_set():
                with contextlib.suppress(ApiError):  # full: it tries again next time
                    emu.create_invalidation(dist, files(f"other{created}", 300))
                    created += 1
                await sleep(latency / 2)

        writer = asyncio.create_task(other_writer())
        try:
            makespan, ours = await one_deploy(emu, runtime, paths)
        finally:
            stop.set()
            await writer
        bound = lower_bound(latency, [(6900, 4)], other_share=300 * 2)
        result = figures(emu, ours, paths, makespan, bound)
        result["other_writer_invalidations"] = created
        return result


async def scenario_e(clock: str, latency: float, seed: int) -> dict[str, Any]:
    """An endpoint that refuses more than 3,000 paths in one request."""
    paths = files("docs", 7000) + wildcards("section", 20)
    strict = Limits(paths_per_request=3000)
    async with emulated(clock, latency, seed, limits=strict) as (emu, runtime, _):
        emu.create_distribution()
        makespan, ours = await one_deploy(emu, runtime, paths)
        return figures(emu, ours, paths, makespan, lower_bound(latency, [(7000, 20)]))


SCENARIOS = {
    "a": ("another writer holds 1,200 files", scenario_a, 1.15),
    "b": ("60 wildcards + 200 files", scenario_b, 1.15),
    "c": ("8 distributions x 4,000 files", scenario_c, 1.15),
    "d": ("another writer keeps creating", scenario_d, None),
    "e": ("a 3,000-path per-request cap", scenario_e, None),
}


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock", choices=["virtual", "real"], default="virtual")
    parser.add_argument("--only", default="abcde", help="scenarios to run, e.g. 'ad'")
    args = parser.parse_args(argv)
    random.seed(args.seed)
    ok = True
    for key in args.only:
        title, run, target = SCENARIOS[key]
        started = time.perf_counter()
        result = asyncio.run(run(args.clock, args.latency, args.seed))
        meets = result["every_path_once"] and (
            target is None or result["makespan_over_bound"] <= target
        )
        ok = ok and meets
        line = {"scenario": key, "title": title, "clock": args.clock, **result}
        line |= {"target": target, "meets_target": meets}
        line["wall_s"] = round(time.perf_counter() - started, 2)
        print(json.dumps(line), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
