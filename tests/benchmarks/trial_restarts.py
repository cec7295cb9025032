"""
Trials: kill a real ``cfinv invalidate`` at random moments, re-run it, count every path.

An emulator runs in another process (``cfinv serve``).  Each trial deploys
about 7,000 paths to a distribution of its own with a deploy id, stops the
command at a seeded random moment (planning, creates or waiting), then:

* after SIGKILL, runs the same command again;
* after SIGINT or SIGTERM, checks the exit code (130, 143), then runs the
  resume command the interrupted run printed on stderr, verbatim, in a shell.
  A signal that arrives while the Python interpreter is still starting, before
  cfinv's code runs, ends the process the default way (nothing was sent); those
  trials are counted apart and re-run the command as it was.

Then it reads back every invalidation of the distribution from the emulator and
checks that no path is in two invalidations of the deploy, that none is missing,
and that the final report lists every invalidation of the deploy.  Finally it
runs the command once more and checks that it made no CreateInvalidation call.

Prints one JSON line per signal with the counts, and exits non-zero if any
trial failed.  Run with ``python tests/benchmarks/trial_restarts.py [--trials 50]
[--signals KILL,INT,TERM] [--seed 1] [--parallel 4]``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session

if TYPE_CHECKING:
    from collections.abc import Iterator

CFINV = [sys.executable, "-m", "cfinv"]
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
FILES, WILDCARDS = 6990, 10
LATENCY = 1.0


def distribution_of(kind: str, n: int) -> str:
    """The distribution of trial ``n`` of a signal: one each, so trials do not share a budget."""
    return f"E{kind[:1]}{n:012d}"


@contextlib.contextmanager
def emulator(distributions: list[str]) -> Iterator[str]:
    """``cfinv serve`` in its own process, with these distributions; yields its endpoint."""
    process = subprocess.Popen(
        [
            *CFINV,
            "serve",
            "--port",
            "0",
            "--latency",
            str(LATENCY),
            "--create-rate",
            "5",
            "--create-burst",
            "10",
            *(f"--distribution={d}" for d in distributions),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **CREDENTIALS},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found is None:
            msg = f"the emulator did not start: {line!r}"
            raise RuntimeError(msg)
        yield found.group()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def client(endpoint: str) -> Any:
    """A botocore client on the emulator."""
    return botocore.session.get_session().create_client(
        "cloudfront",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def deploy_paths(n: int, files: int = FILES) -> list[str]:
    """A deploy's paths: files and a few wildcards."""
    pages = [f"/release-{n}/page-{i}.html" for i in range(files)]
    return pages + [f"/release-{n}/section-{i}/*" for i in range(WILDCARDS)]


def held(endpoint: str, distribution: str, deploy_id: str) -> dict[str, list[str]]:
    """Invalidation id -> paths, for every invalidation of the deploy on the distribution."""
    cf = client(endpoint)
    found: dict[str, list[str]] = {}
    kwargs: dict[str, Any] = {"DistributionId": distribution, "MaxItems": "100"}
    while True:
        page = cf.list_invalidations(**kwargs)["InvalidationList"]
        for item in page.get("Items", []):
            inv = cf.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"]
            if f":{deploy_id}:" in inv["InvalidationBatch"]["CallerReference"]:
                found[inv["Id"]] = inv["InvalidationBatch"]["Paths"].get("Items", [])
        if not page.get("IsTruncated"):
            return found
        kwargs["Marker"] = page["NextMarker"]


def trial(
    endpoint: str, kind: str, n: int, seed: int, *, files: int = FILES, moment: float | None = None
) -> dict[str, Any]:
    """One trial, stopped at ``moment`` s (seeded random by default); what went wrong."""
    rng = random.Random(f"{seed}-{kind}-{n}")
    distribution = distribution_of(kind, n)
    deploy_id = f"trial-{kind.lower()}-{n}"
    workdir = Path(tempfile.mkdtemp(prefix="cfinv-trial-"))
    paths = deploy_paths(n, files)
    (workdir / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    env = {**os.environ, **CREDENTIALS}
    args = [
        "invalidate",
        "--endpoint-url",
        endpoint,
        "--distribution-id",
        distribution,
        "--paths-from",
        "paths.txt",
        "--deploy-id",
        deploy_id,
        "--progress",
        "none",
    ]
    problems: list[str] = []
    moment = rng.uniform(0.3, 7.0) if moment is None else moment
    first = subprocess.Popen(
        [*CFINV, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(moment)
    signal_number = {"KILL": signal.SIGKILL, "INT": signal.SIGINT, "TERM": signal.SIGTERM}[kind]
    first.send_signal(signal_number)
    _, err = first.communicate(timeout=120)
    finished_first = first.returncode == 0
    before = held(endpoint, distribution, deploy_id)
    sent_before = sum(len(items) for items in before.values())
    phase = (
        "finished"
        if finished_first
        else "before any create"
        if not before
        else "while sending"
        if sent_before < len(paths)
        else "while waiting"
    )
    if kind == "KILL":
        resume = [*CFINV, *args]
        rerun = subprocess.run(
            resume, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    else:
        expected = 128 + signal_number
        command = re.search(r"to resume \(sends only what is missing\): (.*)", err)
        if first.returncode == -signal_number and not before:
            # The signal came while Python itself was starting, before cfinv could
            # take it over: nothing was sent, and running the command again resumes.
            phase = "before cfinv started"
        elif first.returncode not in {expected, 0}:
            problems.append(f"exit {first.returncode}, not {expected}: {err[-300:]}")
        if first.returncode == expected and command is None:
            problems.append(f"no resume command printed: {err[-300:]}")
        line = command.group(1) if command else shlex.join(["cfinv", *args])
        rerun = subprocess.run(
            ["bash", "-c", line.replace("cfinv ", f"{shlex.quote(sys.executable)} -m cfinv ", 1)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    problems += check(endpoint, distribution, deploy_id, paths, rerun)
    problems += check_no_create_again(workdir, env, args)
    return {
        "kind": kind,
        "moment_s": round(moment, 2),
        "first_run_finished": finished_first,
        "stopped": phase,
        "invalidations": len(held(endpoint, distribution, deploy_id)),
        "problems": problems,
    }


def check(
    endpoint: str,
    distribution: str,
    deploy_id: str,
    paths: list[str],
    rerun: subprocess.CompletedProcess[str],
) -> list[str]:
    """What is wrong once the re-run ended: paths twice, paths missing, a short report."""
    problems = []
    if rerun.returncode != 0:
        problems.append(f"re-run exited {rerun.returncode}: {rerun.stderr[-300:]}")
        report: dict[str, Any] = {}
    else:
        report = json.loads(rerun.stdout)["Reports"][0]
    invalidations = held(endpoint, distribution, deploy_id)
    counted = collections.Counter(p for items in invalidations.values() for p in items)
    twice = sum(1 for c in counted.values() if c > 1)
    missing = len(set(paths) - set(counted))
    if twice:
        problems.append(f"{twice} paths in two invalidations")
    if missing:
        problems.append(f"{missing} paths never invalidated")
    listed = {b["InvalidationId"] for b in report.get("Batches", []) if b["InvalidationId"]}
    if report and listed != set(invalidations):
        problems.append(f"the report lists {len(listed)} of {len(invalidations)} invalidations")
    return problems


def check_no_create_again(workdir: Path, env: dict[str, str], args: list[str]) -> list[str]:
    """Once more after success: no CreateInvalidation at all."""
    again = subprocess.run(
        [*CFINV, *args, "--output", "json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    calls = json.loads(again.stdout)["Reports"][0]["ApiCalls"] if again.returncode == 0 else {}
    if again.returncode != 0 or calls.get("CreateInvalidation"):
        return [f"a re-run after success created again: {calls}"]
    return []


def main(argv: list[str] | None = None) -> int:
    """Run the trials and print a summary line per signal."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--signals", default="KILL,INT,TERM")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args(argv)
    failed = 0
    kinds = args.signals.split(",")
    every = [distribution_of(kind, n) for kind in kinds for n in range(args.trials)]
    with emulator(every) as endpoint:
        for kind in kinds:
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
                results = list(
                    pool.map(
                        lambda n, kind=kind: trial(endpoint, kind, n, args.seed),
                        range(args.trials),
                    )
                )
            bad = [r for r in results if r["problems"]]
            failed += len(bad)
            print(
                json.dumps(
                    {
                        "signal": kind,
                        "trials": len(results),
                        "stopped": dict(collections.Counter(r["stopped"] for r in results)),
                        "trials_with_problems": len(bad),
                        "problems": [r["problems"] for r in bad][:5],
                        "wall_s": round(time.perf_counter() - started, 1),
                    }
                ),
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
