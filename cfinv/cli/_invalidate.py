"""``cfinv invalidate``: the library's whole pipeline from the command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfinv.cli._aws import client_settings, make_printer, open_session
from cfinv.cli._errors import UsageError
from cfinv.cli._progress import make_progress
from cfinv.errors import InvalidateManyError
from cfinv.paths import plan_paths
from cfinv.report import FREE_PATHS_PER_MONTH, PRICE_PER_PATH

if TYPE_CHECKING:
    import argparse

    from cfinv.report import InvalidationReport

__all__ = ["client_options", "read_paths", "run_invalidate", "run_pipeline"]


def read_paths(args: argparse.Namespace) -> list[str]:
    """Positional paths, ``--paths``, then each ``--paths-from`` file (one path per line).

    Lines are stripped of surrounding whitespace; blank lines are skipped.
    """
    paths = list(args.paths) + list(args.more_paths)
    for source in args.paths_from:
        if source == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                msg = f"cannot read paths from {source}: {exc.strerror or exc}"
                raise UsageError(msg) from None
        paths.extend(line.strip() for line in text.splitlines() if line.strip())
    return paths


def _dry_run(args: argparse.Namespace, paths: list[str], targets: list[str]) -> dict[str, Any]:
    plan = plan_paths(paths)
    billable = plan.billable * len(targets)
    free_left = max(0, FREE_PATHS_PER_MONTH - args.paths_this_month)
    return {
        "DryRun": True,
        "Targets": targets,
        "InputPaths": plan.input_count,
        "DuplicatesDropped": plan.duplicates_dropped,
        "CoveredDropped": plan.covered_dropped,
        "BillablePathsPerTarget": plan.billable,
        "BillablePaths": billable,
        "FreePathsLeftThisMonth": free_left,
        "EstimatedCostUSD": round(max(0, billable - free_left) * PRICE_PER_PATH, 3),
        "Batches": [
            {
                "Index": i,
                "Files": batch.files,
                "Wildcards": batch.wildcards,
                "Paths": list(batch.items),
            }
            for i, batch in enumerate(plan.batches)
        ],
    }


def client_options(args: argparse.Namespace, session: Any = None) -> dict[str, Any]:
    """The library's client options for the AWS CLI's global options (cfinv does the retrying)."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    if session is None:
        session = open_session(args, AioSession)
    settings = client_settings(args, session, AioConfig)
    return {"session": session, **settings}


async def run_pipeline(
    args: argparse.Namespace,
    paths: list[str],
    *,
    distributions: list[str],
    tenants: list[str],
    session: Any = None,
) -> tuple[list[InvalidationReport], dict[str, BaseException]]:
    """Invalidate ``paths`` on every target with one client and pacer; reports and errors."""
    from cfinv.invalidator import invalidate_many

    plan_paths(paths)  # invalid paths fail here, before any connection is made
    with make_progress(args.progress) as progress:
        try:
            reports = await invalidate_many(
                dict.fromkeys(distributions, paths),
                tenants=dict.fromkeys(tenants, paths),
                wait=args.wait,
                timeout=args.timeout,
                raise_on_timeout=False,
                on_event=progress,
                **client_options(args, session),
            )
            errors: dict[str, BaseException] = {}
        except InvalidateManyError as exc:
            reports, errors = exc.reports, exc.errors
    order = distributions + tenants
    return [reports[t] for t in order if t in reports], errors


def run_invalidate(args: argparse.Namespace) -> list[BaseException]:
    """Run ``cfinv invalidate``; print the reports; return the failures to report."""
    distributions, tenants = args.distribution_id, args.distribution_tenant_id
    if not distributions and not tenants:
        msg = (
            "the following arguments are required: --distribution-id (or --distribution-tenant-id)"
        )
        raise UsageError(msg)
    paths = read_paths(args)
    if not paths:
        sys.stderr.write("cfinv: no paths given: nothing to invalidate\n")
    printer = make_printer(args)
    if args.dry_run:
        printer.response("Invalidate", _dry_run(args, paths, distributions + tenants))
        return []
    reports, errors = asyncio.run(
        run_pipeline(args, paths, distributions=distributions, tenants=tenants)
    )
    printer.response("Invalidate", {"Reports": [r.to_dict() for r in reports]})
    failures = list(errors.values())
    if any(r.timed_out for r in reports):
        timed_out = [r.distribution_id for r in reports if r.timed_out]
        failures.append(UsageError(f"timed out waiting for {', '.join(timed_out)}", code="other"))
    return failures
