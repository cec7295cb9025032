"""
Benchmark: request throughput of cfinv's CloudFront emulator and of moto's server.

Both servers run as their own processes on loopback (``python -m cfinv.testing``
and ``python -m moto.server``); one aiobotocore client sends them the same
requests (creates, gets, lists) with the same concurrency, alternating rounds.
Prints one JSON line with both throughputs and their ratio.

Run with ``python tests/benchmarks/bench_emulator.py [--rounds R] [--requests N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

# Run as a script from anywhere: the repository root holds the shared test helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.moto_support import moto_distribution

if TYPE_CHECKING:
    from types_aiobotocore_cloudfront import CloudFrontClient

CREDENTIALS: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll the server until it answers HTTP at all."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"server at {url} exited with {process.returncode}"
            raise RuntimeError(msg)
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our loopback server
        except urllib.error.HTTPError:
            return  # it answered, with an error: it is up
        except OSError:
            time.sleep(0.1)
        else:
            return
    msg = f"server at {url} did not come up"
    raise RuntimeError(msg)


async def workload(
    cf: CloudFrontClient, dist: str, requests: int, concurrency: int, tag: str
) -> int:
    """10% creates, 80% gets, 10% lists; returns the number of requests made."""
    creates = max(1, requests // 10)
    lists = max(1, requests // 10)
    gets = requests - creates - lists
    semaphore = asyncio.Semaphore(concurrency)
    ids: list[str] = []

    async def create(i: int) -> None:
        async with semaphore:
            out = await cf.create_invalidation(
                DistributionId=dist,
                InvalidationBatch={
                    "Paths": {"Quantity": 2, "Items": [f"/p/{i}.html", f"/q/{i}/*"]},
                    "CallerReference": f"{tag}-{i}",
                },
            )
            ids.append(out["Invalidation"]["Id"])

    async def get(i: int) -> None:
        async with semaphore:
            await cf.get_invalidation(DistributionId=dist, Id=ids[i % len(ids)])

    async def list_page() -> None:
        async with semaphore:
            await cf.list_invalidations(DistributionId=dist, MaxItems="100")

    await asyncio.gather(*(create(i) for i in range(creates)))
    await asyncio.gather(*(get(i) for i in range(gets)), *(list_page() for _ in range(lists)))
    return creates + gets + lists


async def measure(url: str, dist: str | None, requests: int, concurrency: int, tag: str) -> float:
    """Requests per second of one round against one server."""
    config = AioConfig(retries={"total_max_attempts": 1}, max_pool_connections=concurrency)
    async with get_session().create_client(
        "cloudfront", endpoint_url=url, config=config, **CREDENTIALS
    ) as cf:
        dist = dist or await moto_distribution(cf)
        start = time.perf_counter()
        done = await workload(cf, dist, requests, concurrency, tag)
        return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Start both servers, alternate rounds against them, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    emu_port, moto_port = free_port(), free_port()
    servers = {
        "emulator": subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cfinv.testing",
                "--port",
                str(emu_port),
                "--no-rate-limit",
                "--latency",
                "1",
                "--distribution",
                "EBENCHMARK00001",
                "--files-limit",
                "100000000",
                "--wildcards-limit",
                "100000000",
            ],
            stdout=subprocess.DEVNULL,
        ),
        "moto": subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    }
    urls = {"emulator": f"http://127.0.0.1:{emu_port}", "moto": f"http://127.0.0.1:{moto_port}"}
    try:
        for name, url in urls.items():
            wait_until_up(url, servers[name])
        results: dict[str, list[float]] = {"emulator": [], "moto": []}
        for round_ in range(args.rounds):
            for name in ("emulator", "moto"):
                dist = "EBENCHMARK00001" if name == "emulator" else None
                rps = asyncio.run(
                    measure(urls[name], dist, args.requests, args.concurrency, f"r{round_}")
                )
                results[name].append(rps)
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=10)

    best = {name: max(values) for name, values in results.items()}
    print(
        json.dumps(
            {
                "benchmark": "emulator_throughput",
                "requests_per_round": args.requests,
                "concurrency": args.concurrency,
                "rounds": args.rounds,
                "emulator_rps": round(best["emulator"], 1),
                "moto_rps": round(best["moto"], 1),
                "emulator_over_moto": round(best["emulator"] / best["moto"], 2),
                "all_rounds_rps": {k: [round(v, 1) for v in vals] for k, vals in results.items()},
                "note": "emulator verifies SigV4 on every request; moto does not",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
