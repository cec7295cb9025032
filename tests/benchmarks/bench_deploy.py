"""
Benchmark: a whole deploy's invalidation, cfinv against the AWS CLI's way.

Both run against the emulator with 5 s completion latency, CloudFront's
default limits and create rate, and SigV4 checks: 9,000 file paths and 30
wildcards.  The lower bound is ``ceil(max(9000 / 3000, 30 / 15)) * 5 s = 15 s``.

* cfinv: ``await Invalidator(...).invalidate(paths)`` with its defaults.
* The AWS CLI's way: the paths in batches of 3,000 as listed, one after the
  other, each followed by botocore's ``invalidation_completed`` waiter with its
  default configuration (GetInvalidation every 20 s, at most 30 times), using
  botocore's default retries.

Each side gets its own emulator, so neither eats the other's rate or budget.
Prints one JSON line per side and a comparison line.  Takes about two minutes.

Run with ``python tests/benchmarks/bench_deploy.py [--latency 5] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import random
import sys
import time
from typing import Any

from aiobotocore.session import get_session

from cfinv import Invalidator, Limits
from cfinv.testing import CloudFrontEmulator

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


async def run_cfinv(paths: list[str], latency: float) -> dict[str, Any]:
    """The deploy with cfinv's defaults."""
    async with CloudFrontEmulator(latency=latency) as emu:
        dist = emu.create_distribution()
        kwargs = emu.client_kwargs()
        start = time.monotonic()
        async with get_session().create_client("cloudfront", **kwargs) as client:
            report = await Invalidator(dist, client=client).invalidate(paths)
        makespan = time.monotonic() - start
        assert report.completed
        return {"side": "cfinv", "makespan_s": round(makespan, 2)} | call_figures(
            emu, len(emu.invalidations(dist))
        )


async def run_aws_cli_way(paths: list[str], latency: float) -> dict[str, Any]:
    """Sequential batches of 3,000 paths, each followed by botocore's default waiter."""
    async with CloudFrontEmulator(latency=latency) as emu:
        dist = emu.create_distribution()
        start = time.monotonic()
        failures = 0
        async with get_session().create_client("cloudfront", **emu.client_kwargs()) as client:
            waiter = client.get_waiter("invalidation_completed")
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
                await waiter.wait(DistributionId=dist, Id=created["Invalidation"]["Id"])
        makespan = time.monotonic() - start
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
    args = parser.parse_args(argv)

    limits = Limits()
    lower_bound = math.ceil(max(FILES / limits.files, WILDCARDS / limits.wildcards)) * args.latency
    paths = deploy_paths(args.seed)
    results = []
    for side in (run_cfinv, run_aws_cli_way):
        result = asyncio.run(side(paths, args.latency))
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
                "cfinv_meets_target": cfinv["makespan_over_lower_bound"] <= 1.15
                and cfinv["status_calls_per_invalidation"] <= 10,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
