"""``cfinv invalidate``: the library's whole pipeline from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfinv._references import check_deploy_id
from cfinv.cli._aws import client_settings, make_printer, open_session
from cfinv.cli._ci import detect_deploy_id
from cfinv.cli._errors import Interrupted, UsageError
from cfinv.cli._progress import make_progress
from cfinv.cli._summary import print_reports
from cfinv.errors import InvalidateManyError, InvalidPathError
from cfinv.models import format_timestamp
from cfinv.paths import plan_paths
from cfinv.report import FREE_PATHS_PER_MONTH, PRICE_PER_PATH

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from cfinv.models import Invalidation
    from cfinv.paths import Plan
    from cfinv.report import InvalidationReport

__all__ = [
    "client_options",
    "read_paths",
    "resolve_deploy_id",
    "resume_command",
    "run_invalidate",
    "run_pipeline",
]


def read_paths(args: argparse.Namespace) -> list[str]:
    """Positional paths, ``--paths``, then each ``--paths-from`` file (one path per line).

    Lines are stripped of surrounding whitespace; blank lines are skipped.
    """
    paths = list(args.paths) + list(args.more_paths)
    for source in args.paths_from:
        if source == "-":
            try:
                text = sys.stdin.read()
            except UnicodeDecodeError as exc:
                msg = f"cannot read paths from standard input: not UTF-8 (byte {exc.start})"
                raise UsageError(msg) from None
        else:
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                msg = f"cannot read paths from {source}: {exc.strerror or exc}"
                raise UsageError(msg) from None
            except UnicodeDecodeError as exc:
                msg = (
                    f"cannot read paths from {source}: the file could not be decoded as "
                    f"UTF-8 (byte {exc.start})"
                )
                raise UsageError(msg) from None
        paths.extend(line.strip() for line in text.splitlines() if line.strip())
    return paths


async def planning(args: argparse.Namespace, session: Any = None) -> dict[str, Any]:
    """
    ``plan_paths``' options from the command line, with the tree read.

    An ``s3://`` tree is listed with the profile's session (``--profile``).
    """
    from cfinv.trees import load_tree

    source = getattr(args, "tree", None)
    served = None
    if source is not None:
        served = await load_tree(source, session=session)
    return {
        "tree": served,
        "max_paths": getattr(args, "max_paths", None),
        "max_wildcards": getattr(args, "max_wildcards", None),
        "index_document": getattr(args, "index_document", None),
    }


def checked_plan(paths: list[str], options: dict[str, Any]) -> Plan:
    """The plan, a budget the planner refuses being a usage error; invalid paths raise as such."""
    try:
        return plan_paths(paths, **options)
    except ValueError as exc:
        if isinstance(exc, InvalidPathError):
            raise
        said = str(exc)
        for name, flag in (
            ("max_paths=", "--max-paths "),
            ("max_wildcards=", "--max-wildcards "),
            ("index_document=", "--index-document "),
            ("tree=...", "--tree"),
        ):
            said = said.replace(name, flag)
        raise UsageError(said) from None


def _dry_run(
    args: argparse.Namespace, paths: list[str], targets: list[str], session: Any
) -> dict[str, Any]:
    plan = checked_plan(paths, asyncio.run(planning(args, session)))
    billable = plan.billable * len(targets)
    free_left = max(0, FREE_PATHS_PER_MONTH - args.paths_this_month)
    return {
        "DryRun": True,
        "Targets": targets,
        "InputPaths": plan.input_count,
        "DuplicatesDropped": plan.duplicates_dropped,
        "CoveredDropped": plan.covered_dropped,
        "IndexAliasesAdded": plan.aliases_added,
        "CollapsedIntoWildcards": plan.collapsed,
        "Wildcards": plan.wildcards,
        "CollateralPaths": plan.collateral,
        "BillablePathsPerTarget": plan.billable,
        "BillablePaths": billable,
        "FreePathsLeftThisMonth": free_left,
        "EstimatedCostUSD": round(max(0, billable - free_left) * PRICE_PER_PATH, 3),
        "PathsUnderEachWildcard": {
            wildcard: len(paths) for wildcard, paths in sorted(plan.covered.items())
        },
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


def aio_session(args: argparse.Namespace) -> Any:
    """The aiobotocore session for ``--profile``: its settings (``output``) and its clients."""
    from aiobotocore.session import AioSession

    return open_session(args, AioSession)


def client_options(args: argparse.Namespace, session: Any = None) -> dict[str, Any]:
    """The library's client options for the AWS CLI's global options (cfinv does the retrying)."""
    from aiobotocore.config import AioConfig

    if session is None:
        session = aio_session(args)
    settings = client_settings(args, session, AioConfig)
    return {"session": session, **settings}


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[list[int]]:
    """
    While the event loop runs: SIGINT or SIGTERM sets ``stop``; yields the signals that came.

    The handlers in place before (the command's, which end it at once) come
    back after the first signal, so a second Ctrl-C stops at once, and when
    the block ends, so a signal after the loop still ends the command cleanly.
    """
    loop = asyncio.get_running_loop()
    received: list[int] = []
    numbers = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in numbers}

    def restore() -> None:
        for number, handler in previous.items():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(number)  # this leaves the default action...
                if handler is not None:
                    signal.signal(number, handler)  # ...so put back what was there

    def on_signal(number: int) -> None:
        received.append(number)
        restore()
        stop.set()

    for number in numbers:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here
            loop.add_signal_handler(number, on_signal, number)
    try:
        yield received
    finally:
        restore()


async def run_pipeline(
    args: argparse.Namespace,
    paths: list[str],
    *,
    distributions: list[str],
    tenants: list[str],
    session: Any = None,
    deploy_id: str | None = None,
) -> tuple[list[InvalidationReport], dict[str, BaseException]]:
    """
    Invalidate ``paths`` on every target with one client and pacer; reports and errors.

    Raises:
        Interrupted: A signal stopped it; the reports (partial) are in ``args.reports``.
    """
    from cfinv.invalidator import invalidate_many

    plan_options = await planning(args, session)
    checked_plan(paths, plan_options)  # invalid paths or budgets fail here, before any call
    stop = asyncio.Event()
    with _stop_on_signals(stop) as received, make_progress(args.progress) as progress:
        try:
            reports = await invalidate_many(
                dict.fromkeys(distributions, paths),
                tenants=dict.fromkeys(tenants, paths),
                wait=args.wait,
                timeout=args.timeout,
                raise_on_timeout=False,
                on_event=progress,
                stop=stop,
                deploy_id=deploy_id,
                discovery=getattr(args, "discovery", True),  # demo has no --no-discovery
                **plan_options,
                **client_options(args, session),
            )
            errors: dict[str, BaseException] = {}
        except InvalidateManyError as exc:
            reports, errors = dict(exc.reports), exc.errors
    if received:
        # Stopped: every call's partial report rides on its InvalidatorClosed.
        for target, error in errors.items():
            report = getattr(error, "report", None)
            if report is not None:
                reports[target] = report
        errors = {t: e for t, e in errors.items() if getattr(e, "report", None) is None}
    order = distributions + tenants
    ordered = [reports[t] for t in order if t in reports]
    if received:
        args.reports = ordered
        raise Interrupted(received[0])
    return ordered, errors


def resolve_deploy_id(args: argparse.Namespace) -> str | None:
    """``--deploy-id``, or the CI run's; says on stderr which one is used."""
    if args.no_deploy_id:
        return None
    if not args.discovery:
        if args.deploy_id is not None:
            msg = (
                "--deploy-id needs discovery (a run of a deploy reads what earlier runs "
                "created); drop --deploy-id or --no-discovery"
            )
            raise UsageError(msg)
        return None  # a deploy id from CI would need discovery too
    if args.deploy_id is not None:
        try:
            deploy_id = check_deploy_id(args.deploy_id)
        except ValueError as exc:
            raise UsageError(f"--deploy-id: {exc}") from None
        sys.stderr.write(f"cfinv: deploy id {deploy_id}\n")
        return deploy_id
    detected = detect_deploy_id(os.environ)
    if detected.deploy_id is not None:
        sys.stderr.write(
            f"cfinv: deploy id {detected.deploy_id} ({detected.source}); a retry of this job "
            "sends only what this run did not (--no-deploy-id to turn this off)\n"
        )
    return detected.deploy_id


def resume_command(args: argparse.Namespace, deploy_id: str | None) -> str:
    """The command line that resumes an interrupted run: the same, with the deploy id."""
    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    if deploy_id is not None and "--deploy-id" not in argv:
        argv += ["--deploy-id", deploy_id]
    command = shlex.join(["cfinv", *argv])
    if "-" in args.paths_from:
        command += "   # with the same paths on standard input"
    return command


def _wait_for(args: argparse.Namespace, targets: list[str]) -> list[BaseException]:
    """``cfinv invalidate --wait-for ID ...``: cfinv's polling, on invalidations made earlier."""
    from cfinv.invalidator import Invalidator

    if len(targets) != 1:
        msg = "--wait-for takes exactly one --distribution-id (or --distribution-tenant-id)"
        raise UsageError(msg)
    if read_paths(args):
        msg = "--wait-for waits for invalidations; give no paths with it"
        raise UsageError(msg)
    (target,) = targets
    tenant = bool(args.distribution_tenant_id)

    async def wait(session: Any) -> tuple[Invalidation, ...]:
        stop = asyncio.Event()
        with _stop_on_signals(stop) as received, make_progress(args.progress) as progress:
            async with Invalidator(
                target, tenant=tenant, on_event=progress, **client_options(args, session)
            ) as inv:
                waiting = asyncio.ensure_future(
                    inv.wait(args.wait_for, timeout=args.timeout, raise_on_timeout=False)
                )
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not waiting.done():
                    await inv.aclose()
                    with contextlib.suppress(Exception):
                        await waiting
                    raise Interrupted(received[0])
                return waiting.result()

    session = aio_session(args)
    invalidations = asyncio.run(wait(session))
    done = all(i.is_completed for i in invalidations)
    make_printer(args, session).response(
        "Wait",
        {
            "DistributionId": target,
            "Completed": done,
            "Invalidations": [
                {
                    "Id": i.id,
                    "Status": i.status.value,
                    "CreateTime": format_timestamp(i.create_time),
                    "Paths": i.batch.paths.quantity,
                    "CallerReference": i.batch.caller_reference,
                }
                for i in invalidations
            ],
        },
    )
    if done:
        return []
    pending = ", ".join(i.id for i in invalidations if not i.is_completed)
    return [UsageError(f"timed out waiting for {pending}", code="other")]


def run_invalidate(args: argparse.Namespace) -> list[BaseException]:
    """Run ``cfinv invalidate``; print the reports; return the failures to report."""
    distributions, tenants = args.distribution_id, args.distribution_tenant_id
    if not distributions and not tenants:
        msg = (
            "the following arguments are required: --distribution-id (or --distribution-tenant-id)"
        )
        raise UsageError(msg)
    for option, values in (
        ("--distribution-id", distributions),
        ("--distribution-tenant-id", tenants),
        ("--wait-for", args.wait_for),
    ):
        for value in values:
            if not value.strip():
                msg = f"{option} needs an id, got {value!r}"
                raise UsageError(msg)
    if args.wait_for:
        return _wait_for(args, distributions + tenants)
    session = aio_session(args)
    printer = make_printer(args, session)  # the profile's `output` counts, as elsewhere
    try:
        paths = read_paths(args)
        if not paths:
            sys.stderr.write("cfinv: no paths given: nothing to invalidate\n")
        if args.dry_run:
            targets = distributions + tenants
            printer.response("Invalidate", _dry_run(args, paths, targets, session))
            return []
        args.resolved_deploy_id = resolve_deploy_id(args)
        reports, errors = asyncio.run(
            run_pipeline(
                args,
                paths,
                distributions=distributions,
                tenants=tenants,
                session=session,
                deploy_id=args.resolved_deploy_id,
            )
        )
    except Interrupted as stopped:
        reports = getattr(args, "reports", [])
        print_reports(args, printer, reports, session=session)
        created = [i.id for r in reports for i in r.invalidations]
        name = signal.Signals(stopped.signal_number).name
        resume = resume_command(args, getattr(args, "resolved_deploy_id", None))
        sys.stderr.write(
            f"\ncfinv: stopped by {name}; invalidations of this run: "
            f"{', '.join(created) or 'none'}\n"
            f"cfinv: to resume (sends only what is missing): {resume}\n"
        )
        stopped.reported = True
        raise
    print_reports(args, printer, reports, session=session)  # a summary on a terminal
    failures = list(errors.values())
    if any(r.timed_out for r in reports):
        timed_out = [r.distribution_id for r in reports if r.timed_out]
        failures.append(UsageError(f"timed out waiting for {', '.join(timed_out)}", code="other"))
    return failures
