"""
Benchmark: a whole deploy's invalidation, cfinv against the AWS CLI's way.

Both run against the emulator with 5 s completion latency, CloudFront's
default limits and create rate, and SigV4 checks: 9,000 file paths and 30
wildcards.  The lower bound is ``ceil(max(9000 / 3000, 30 / 15)) * 5 s = 15 s``.

* cfinv: ``await Invalidator(...).invalidate(paths)`` with its defaults.
* The AWS CLI's way: the paths in batches of 3,000 as listed, one after the
  other, each followed by what botocore's ``invalidation_completed`` waiter
  does (GetInvalidation at once, then every 20 s, at most 30 times).

By default both run on a virtual clock (``cfinv.testing.VirtualClock``): the
makespans are emulated seconds, exact and the same on any machine, measuring
scheduling and polling rather than this machine's speed.  ``--clock real``
runs them on the wall clock instead (about two minutes).  Each side gets its
own emulator, so neither eats the other's rate or budget.  Prints one JSON
line per side and a comparison line.

Run with ``python tests/benchmarks/bench_deploy.py [--latency 5] [--seed 1]
[--clock virtual|real]``.
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

from cfinv import Invalidator, Limits, Runtime
from cfinv.testing import CloudFrontEmulator, VirtualClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

FILES = 9000
WILDCARDS = 30


def deploy_paths(seed: int) -> list[str]:
    """9,000 changed files and 30 rebuilt sections, in a file-listing order."""
    rng = random.Random(seed)
    files = [
        f"/{rng.choice(['docs', 'blog', 'assets', 'img'])}/{i // 50}/page-{i}.html"
        for i in range(FILES)
    ]
    wildcards = [f"/section-{i}/*" for i in range(WILDCARDS)]
    paths = files + wildcards
    rng.shuffle(paths)
    return paths


def call_figures(emu: CloudFrontEmulator, created: int) -> dict[str, Any]:
    """Call counts and errors, from the emulator's own log."""
    calls = emu.calls
    by_operation = collections.Counter(c.operation for c in calls)
    errors = collections.Counter(c.error_code for c in calls if c.error_code)
    status_calls = by_operation["GetInvalidation"] + by_operation["ListInvalidations"]
    return {
        "create_calls": by_operation["CreateInvalidation"],
        "get_calls": by_operation["GetInvalidation"],
        "list_calls": by_operation["ListInvalidations"],
        "invalidations": created,
        "status_calls_per_invalidation": round(status_calls / created, 2) if created else None,
        "errors_seen": dict(errors),
    }


@contextlib.asynccontextmanager
async def emulated(clock: str, latency: float, seed: int) -> AsyncIterator[CloudFrontEmulator]:
    """An emulator on the chosen clock (its runtime is the one to give the client side)."""
    if clock == "virtual":
        async with (
            VirtualClock() as virtual,
            CloudFrontEmulator(latency=latency, runtime=virtual.runtime(seed=seed)) as emu,
        ):
            yield emu
    else:
        async with CloudFrontEmulator(latency=latency, runtime=Runtime.seeded(seed)) as emu:
            yield emu


async def run_cfinv(paths: list[str], latency: float, clock: str, seed: int) -> dict[str, Any]:
    """The deploy with cfinv's defaults."""
    async with emulated(clock, latency, seed) as emu:
        dist = emu.create_distribution()
        runtime = emu.runtime
        kwargs = emu.client_kwargs()
        start = runtime.monotonic()
        async with AioSession().create_client("cloudfront", **kwargs) as client:
            report = await Invalidator(dist, client=client, runtime=runtime).invalidate(paths)
        makespan = runtime.monotonic() - start
        assert report.completed
        return {"side": "cfinv", "makespan_s": round(makespan, 2)} | call_figures(
            emu, len(emu.invalidations(dist))
        )


async def run_aws_cli_way(
    paths: list[str], latency: float, clock: str, seed: int
) -> dict[str, Any]:
    """Sequential batches of 3,000 paths, each followed by botocore's default waiter."""
    async with emulated(clock, latency, seed) as emu:
        dist = emu.create_distribution()
        runtime = emu.runtime
        start = runtime.monotonic()
        failures = 0
        async with AioSession().create_client("cloudfront", **emu.client_kwargs()) as client:
            for n, first in enumerate(range(0, len(paths), 3000)):
                chunk = paths[first : first + 3000]
                try:
                    created = await client.create_invalidation(
                        DistributionId=dist,
                        InvalidationBatch={
                            "Paths": {"Quantity": len(chunk), "Items": chunk},
                            "CallerReference": f"cli-{int(time.time())}-{n}",
                        },
                    )
                except Exception:  # noqa: BLE001 - the baseline reports errors, it does not stop
                    failures += 1
                    continue
                # botocore's invalidation_completed waiter: a Get, then one every 20 s.
                for _ in range(30):
                    got = await client.get_invalidation(
                        DistributionId=dist, Id=created["Invalidation"]["Id"]
                    )
                    if got["Invalidation"]["Status"] == "Completed":
                        break
                    await runtime.sleep(20)
        makespan = runtime.monotonic() - start
        return {
            "side": "aws-cli-way",
            "makespan_s": round(makespan, 2),
            "failed_batches": failures,
        } | call_figures(emu, len(emu.invalidations(dist)))


def main(argv: list[str] | None = None) -> int:
    """Run both sides one after the other and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock", choices=["virtual", "real"], default="virtual")
    args = parser.parse_args(argv)

    limits = Limits()
    lower_bound = math.ceil(max(FILES / limits.files, WILDCARDS / limits.wildcards)) * args.latency
    paths = deploy_paths(args.seed)
    results = []
    for side in (run_cfinv, run_aws_cli_way):
        started = time.perf_counter()
        result = asyncio.run(side(paths, args.latency, args.clock, args.seed))
        result["clock"] = args.clock
        result["wall_s"] = round(time.perf_counter() - started, 2)
        result["lower_bound_s"] = lower_bound
        result["makespan_over_lower_bound"] = round(result["makespan_s"] / lower_bound, 3)
        print(json.dumps(result), flush=True)
        results.append(result)
    cfinv, cli = results
    print(
        json.dumps(
            {
                "comparison": "aws-cli-way makespan / cfinv makespan",
                "speedup": round(cli["makespan_s"] / cfinv["makespan_s"], 2),
                "cfinv_meets_target": cfinv["makespan_over_lower_bound"] <= 1.05
                and cfinv["status_calls_per_invalidation"] <= 3,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
