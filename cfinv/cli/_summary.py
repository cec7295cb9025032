"""
The end of ``cfinv invalidate`` and ``cfinv demo``: a summary for people, or the report.

On a terminal, when no output format was chosen (no ``--output``, no
``--query``, no ``AWS_DEFAULT_OUTPUT``, no ``output`` in the profile),
``invalidate`` prints a summary: per
target, a table of its batches (invalidation id, paths, wildcards, status,
duration), the paths given, dropped and billed, the estimated cost, the API
calls and retries.  Otherwise it prints the report in the ``--output`` format,
JSON by default, exactly as before: what a script or a pipe reads.

``demo`` is for people: it prints the summary unless ``--output`` is given,
wherever its standard output goes.

The summary needs rich (the ``cli`` extra); without it, the report is printed.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any

from cfinv.report import FREE_PATHS_PER_MONTH, PRICE_PER_PATH

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from rich.console import Console, RenderableType

    from cfinv.cli._output import Printer
    from cfinv.report import BatchResult, InvalidationReport

__all__ = ["format_duration", "print_reports", "render_summary", "wants_summary"]


def wants_summary(
    args: argparse.Namespace, stream: IO[str] | None = None, *, session: Any = None
) -> bool:
    """
    Whether to print the summary: ``stream`` (stdout) is a terminal and no format was chosen.

    A format is chosen by ``--output``, ``--query``, ``AWS_DEFAULT_OUTPUT`` or
    the profile's ``output`` setting (read from ``session``, when given).

    Args:
        args: The command's arguments.
        stream: Where the result goes (default: ``sys.stdout``).
        session: The botocore session whose profile may set ``output``.
    """
    from cfinv.cli._aws import chosen_output

    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return False
    if getattr(args, "query", None) is not None:
        return False
    return chosen_output(args, session) is None


def print_reports(
    args: argparse.Namespace,
    printer: Printer,
    reports: Sequence[InvalidationReport],
    *,
    command: str = "Invalidate",
    human: bool | None = None,
    session: Any = None,
    notes: Sequence[str] = (),
    console: Console | None = None,
) -> None:
    """
    Print the result: the summary for a person, else ``{"Reports": [...]}`` with ``printer``.

    Args:
        args: The command's arguments (``--output``, ``--color``, ``--paths-this-month``).
        printer: Prints the report in the chosen format.
        reports: One report per target, in the order given.
        command: The response's name for the printer.
        human: Force the summary (``True``) or the report (``False``);
            default: `wants_summary`.
        session: The botocore session, whose profile may choose the format.
        notes: Lines printed after the summary.
        console: Where the summary goes (default: stdout).
    """
    if human is None:
        human = wants_summary(args, session=session)
    if human:
        try:
            console_class = _stdout_console_class()
        except ImportError:  # rich is in the `cli` extra
            pass
        else:
            if console is None:
                color = getattr(args, "color", None)
                console = console_class(
                    file=sys.stdout,
                    highlight=False,
                    no_color=color == "off",
                    force_terminal=True if color == "on" else None,
                )
            this_month = int(getattr(args, "paths_this_month", 0) or 0)
            console.print(render_summary(reports, paths_this_month=this_month, notes=notes))
            return
    printer.response(command, {"Reports": [r.to_dict() for r in reports]})


def _stdout_console_class() -> type[Console]:
    from rich.console import Console

    class StdoutConsole(Console):
        """rich's console, but a reader gone away is the command's to handle (exit 0)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return StdoutConsole


def format_duration(seconds: float) -> str:
    """
    A duration for the summary: ``4.2s``, ``1m05s``, ``1h02m``.

    Args:
        seconds: The duration (negative counts as zero).
    """
    seconds = max(0.0, seconds)
    if seconds < 60:  # noqa: PLR2004 - a minute
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:  # noqa: PLR2004 - an hour
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _cost(paths: int, paths_this_month: int) -> float:
    free_left = max(0, FREE_PATHS_PER_MONTH - paths_this_month)
    return max(0, paths - free_left) * PRICE_PER_PATH


def _status(batch: BatchResult) -> str:
    if batch.invalidation is None:
        return "not sent"
    status = batch.invalidation.status.value
    return f"{status} (earlier run)" if batch.resumed else status


def _duration(batch: BatchResult) -> str:
    if batch.submitted_at is None or batch.completed_at is None:
        return "—"
    return format_duration((batch.completed_at - batch.submitted_at).total_seconds())


def _headline(report: InvalidationReport) -> str:
    """What became of one target, in one sentence."""
    created = len(report.invalidations)
    done = sum(1 for b in report.batches if b.is_completed)
    took = format_duration(report.elapsed)
    invalidations = _plural(created, "invalidation")
    if not report.batches:
        return f"{report.distribution_id}: nothing to invalidate ({took})"
    if report.completed:
        every = "all" if created > 1 else "it"
        return f"{report.distribution_id}: {invalidations}, {every} Completed, in {took}"
    parts = [f"{done:,} of {invalidations} Completed"]
    if created - done:
        parts.append(f"{created - done:,} still in progress")
    if report.unsent:
        parts.append(f"{_plural(len(report.unsent), 'batch', 'batches')} not sent")
    if report.timed_out:
        why = f"timed out after {took}"
    elif not report.waited:
        why = f"sent in {took}, not waited for"
    else:
        why = f"stopped after {took}"
    return f"{report.distribution_id}: {why}: {', '.join(parts)}"


def _batches(report: InvalidationReport) -> RenderableType:
    from rich import box
    from rich.table import Table

    table = Table(
        box=box.SIMPLE, show_edge=False, show_footer=True, pad_edge=False, header_style="bold"
    )
    table.add_column("batch", "total", justify="right", no_wrap=True)
    table.add_column("invalidation", no_wrap=True)
    table.add_column("paths", f"{report.planned_paths:,}", justify="right", no_wrap=True)
    wildcards = sum(b.paths.wildcards for b in report.batches)
    table.add_column("wildcards", f"{wildcards:,}", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("duration", format_duration(report.elapsed), justify="right", no_wrap=True)
    for batch in report.batches:
        table.add_row(
            str(batch.index),
            batch.invalidation.id if batch.invalidation is not None else "—",
            f"{batch.paths.quantity:,}",
            f"{batch.paths.wildcards:,}",
            _status(batch),
            _duration(batch),
        )
    return table


def _paths_line(report: InvalidationReport) -> str:
    dropped = [
        f"{count:,} {what}"
        for count, what in (
            (report.duplicates_dropped, "duplicates"),
            (report.covered_dropped, "under a wildcard"),
        )
        if count
    ]
    return (
        f"{_plural(report.input_count, 'path')} given, "
        f"{' and '.join(dropped) or 'none'} dropped, {report.billable:,} billable"
    )


def _calls_line(report: InvalidationReport) -> str:
    calls = sorted(report.api_calls.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(f"{count:,} {operation}" for operation, count in calls) or "none"
    retries = "no retries" if not report.retries else _plural(report.retries, "retry", "retries")
    return f"{listed}; {retries}"


def _cost_line(reports: Sequence[InvalidationReport], paths_this_month: int) -> str:
    billable = sum(r.billable for r in reports)
    given = sum(r.input_count for r in reports)
    line = (
        f"${_cost(billable, paths_this_month):,.2f} for {_plural(billable, 'billable path')} "
        f"(${PRICE_PER_PATH} a path beyond the first {FREE_PATHS_PER_MONTH:,} a month"
    )
    if paths_this_month:
        line += f"; {paths_this_month:,} used already"
    line += ")"
    if given > billable:
        line += f"; all {given:,} paths given would cost ${_cost(given, paths_this_month):,.2f}"
    return line


def _facts(rows: Sequence[tuple[str, str]]) -> RenderableType:
    """Labelled lines; a long one wraps under its own start."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def render_summary(
    reports: Sequence[InvalidationReport],
    *,
    paths_this_month: int = 0,
    notes: Sequence[str] = (),
) -> RenderableType:
    """
    The summary of a run, as a rich renderable.

    Args:
        reports: One report per target.
        paths_this_month: Paths the account invalidated earlier this month,
            for the cost (the first 1,000 a month are free).
        notes: Lines to add at the end.
    """
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = [] if reports else [Text("No invalidation was made.")]
    for number, report in enumerate(reports, 1):
        parts.append(Text(_headline(report), style="bold"))
        if report.batches:
            parts.append(_batches(report))
        facts = [("plan", _paths_line(report)), ("API calls", _calls_line(report))]
        if number == len(reports):  # the free paths are the account's: one cost for all
            facts.append(("cost", _cost_line(reports, paths_this_month)))
        parts.append(_facts(facts))
    parts.extend(Text(note) for note in notes)
    return Group(*parts)
