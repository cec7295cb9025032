"""
Benchmark: whole-process wall time of `cfinv` against the AWS CLI (v1, from PyPI).

Times, side by side and interleaved, `--version` and one `create-invalidation`
against the emulator (run as its own process), several runs each, and
prints one JSON line with the medians and the ratios cfinv / aws.

Run with ``python tests/benchmarks/bench_startup.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run; the command must succeed."""
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, time both tools alternately, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cfinv.testing",
            "--port",
            "0",
            "--no-rate-limit",
            "--distribution",
            "EDFDVBD6EXAMPLE",
            "--latency",
            "5",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        match = re.search(r"http://\S+", emulator.stdout.readline())
        assert match, "the emulator did not start"
        endpoint = match.group()
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        aws = shutil.which("aws") or "aws"
        cfinv = shutil.which("cfinv") or "cfinv"
        create = [
            "create-invalidation",
            "--distribution-id",
            "EDFDVBD6EXAMPLE",
            "--paths",
            "/index.html",
            "/img/*",
            "--endpoint-url",
            endpoint,
        ]
        commands = {
            "aws_version": [aws, "--version"],
            "cfinv_version": [cfinv, "--version"],
            "aws_create": [aws, "cloudfront", *create],
            "cfinv_create": [cfinv, *create],
        }
        for command in commands.values():  # warm the file cache and .pyc files
            timed(command, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(timed(command, env))
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        if emulator.stdout is not None:
            emulator.stdout.close()

    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "runs": args.runs,
                "median_s": {name: round(value, 3) for name, value in medians.items()},
                "ratio_version": round(medians["cfinv_version"] / medians["aws_version"], 2),
                "ratio_create_invalidation": round(
                    medians["cfinv_create"] / medians["aws_create"], 2
                ),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
