"""
Specs for what ``cfinv invalidate`` and ``cfinv demo`` show: the live display and the summary.

The display and the summary are drawn on recorded rich consoles of a fixed
width, from constructed events (exact snapshots) and from real runs against
the emulator on virtual time; the command itself runs with its output piped.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from rich.console import Console

from cfinv import Invalidator, Limits, Runtime
from cfinv.cli import main
from cfinv.cli._progress import _Bar, _Lines, _Target, format_clock, make_progress
from cfinv.cli._summary import format_duration, print_reports, render_summary, wants_summary
from cfinv.errors import Throttling
from cfinv.events import (
    Completed,
    Event,
    Finished,
    Planned,
    Polled,
    Retrying,
    Submitted,
    WaitingForCapacity,
)
from cfinv.models import Invalidation, InvalidationBatch, InvalidationStatus, Paths
from cfinv.paths import plan_paths
from cfinv.report import BatchResult, InvalidationReport
from cfinv.testing import CloudFrontEmulator, VirtualClock
from tests.conftest import PLAIN_HTTP, SESSION

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import RenderableType

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
DIST = "EDFDVBD6EXAMPLE"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def recorder(width: int) -> Console:
    """A terminal of ``width`` columns that records what is drawn on it, without colours."""
    return Console(
        record=True, width=width, force_terminal=True, color_system=None, file=io.StringIO()
    )


def draw(renderable: RenderableType, width: int) -> str:
    """The text ``renderable`` shows at ``width`` columns, without trailing blanks."""
    console = recorder(width)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def paths(files: int, wildcards: int = 0, prefix: str = "p") -> Paths:
    items = [f"/{prefix}/{n}.html" for n in range(files)]
    items += [f"/{prefix}-{n}/*" for n in range(wildcards)]
    return Paths(items)


def invalidation(
    invalidation_id: str, batch: Paths, status: str = "InProgress", created: float = 0
) -> Invalidation:
    return Invalidation(
        id=invalidation_id,
        status=status,
        create_time=at(created),
        batch=InvalidationBatch(batch, f"cfinv-ref-{invalidation_id}"),
    )


# A deploy of 6,861 billable paths (6,857 files, 4 wildcards), nine seconds in:
# batch 0 took 4.2 s, batches 1 and 2 are in flight, batch 3 waits for capacity.
PLAN = plan_paths([f"/p/{n}.html" for n in range(6857)] + [f"/w{n}/*" for n in range(4)])
B0, B1, B2 = paths(1800, 4, "a"), paths(1800, 0, "b"), paths(1200, 0, "c")
MID_RUN: list[Event] = [
    Planned(DIST, plan=PLAN, time=at(0)),
    Submitted(DIST, batch=0, invalidation=invalidation("IQWWY6EVF98SS3", B0), time=at(1)),
    WaitingForCapacity(
        DIST,
        batch=1,
        files=3000,
        wildcards=0,
        in_progress_files=3000,
        in_progress_wildcards=4,
        time=at(1),
    ),
    Completed(
        DIST,
        invalidation=invalidation("IQWWY6EVF98SS3", B0, "Completed"),
        batch=0,
        seconds=4.2,
        time=at(5.2),
    ),
    Submitted(DIST, batch=1, invalidation=invalidation("I5Z7Q0467BOID7", B1), time=at(5.5)),
    Retrying(
        DIST,
        operation="CreateInvalidation",
        error=Throttling("Rate exceeded for CreateInvalidation; slow down and try again later"),
        attempt=1,
        delay=0.4,
        batch=2,
        time=at(6.1),
    ),
    Submitted(
        DIST, batch=2, invalidation=invalidation("I14J4OH348Q9ZT", B2), attempts=2, time=at(6.5)
    ),
    Polled(
        DIST,
        operation="ListInvalidations",
        statuses={
            "I5Z7Q0467BOID7": InvalidationStatus.IN_PROGRESS,
            "IOTHERTEAM0001": InvalidationStatus.IN_PROGRESS,
        },
        time=at(7),
    ),
    WaitingForCapacity(
        DIST,
        batch=3,
        files=2057,
        wildcards=0,
        in_progress_files=3000,
        in_progress_wildcards=0,
        time=at(7.2),
    ),
]


@pytest.fixture
def now() -> list[dt.datetime]:
    """The display's clock, set by the test: ``now[0]``."""
    return [at(0)]


@pytest.fixture
def bar(now: list[dt.datetime]) -> Iterator[_Bar]:
    """The live display on a recorded 80-column terminal, on the test's clock, not refreshing."""
    display = _Bar(console=recorder(80), clock=lambda: now[0], auto_refresh=False)
    with display:
        yield display


# --- the live display ---------------------------------------------------------------------


MID_RUN_80 = """\
EDFDVBD6EXAMPLE ━━━━━━━                      1,804/6,861 paths · 0:09 · ETA 0:05
  batches: 3 sent, 1 completed; 2,057 paths still to send
  in flight       batch  paths  status       age
  I5Z7Q0467BOID7      1  1,800  InProgress  0:03
  I14J4OH348Q9ZT      2  1,200  InProgress  0:02
  waiting: batch 3 waits for capacity: 3,000 files and 0 wildcards in progress
  other writers: 1 invalidation in progress
  retries: 1, last CreateInvalidation (attempt 1): Throttling: Rate exceeded fo…"""

MID_RUN_120 = """\
EDFDVBD6EXAMPLE ━━━━━━━━━━━━━━━━━╸                                                   1,804/6,861 paths · 0:09 · ETA 0:05
  batches: 3 sent, 1 completed; 2,057 paths still to send
  in flight       batch  paths  status       age
  I5Z7Q0467BOID7      1  1,800  InProgress  0:03
  I14J4OH348Q9ZT      2  1,200  InProgress  0:02
  waiting: batch 3 waits for capacity: 3,000 files and 0 wildcards in progress
  other writers: 1 invalidation in progress
  retries: 1, last CreateInvalidation (attempt 1): Throttling: Rate exceeded for CreateInvalidation; slow down and try …"""  # noqa: E501 - a 120-column frame


@pytest.mark.parametrize(("width", "expected"), [(80, MID_RUN_80), (120, MID_RUN_120)])
def test_mid_run_frame(bar: _Bar, now: list[dt.datetime], width: int, expected: str) -> None:
    """Paths done of planned, batches, elapsed, ETA; what is in flight and its age; what waits."""
    for event in MID_RUN:
        bar(event)
    now[0] = at(9)
    assert expected == draw(bar.view, width)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_the_headline_is_never_cut(bar: _Bar, now: list[dt.datetime], width: int) -> None:
    """At 80, 100 and 120 columns the target, paths, elapsed time and ETA show in full."""
    for event in MID_RUN:
        bar(event)
    now[0] = at(754)  # 12:34 in: a wider clock
    headline, *rest = draw(bar.view, width).splitlines()
    assert re.fullmatch(
        r"EDFDVBD6EXAMPLE [━╸]+ +1,804/6,861 paths · 12:34 · ETA \d+:\d\d", headline
    )
    assert all(len(line) <= width for line in [headline, *rest])


def test_eta_waits_for_a_completed_invalidation(bar: _Bar, now: list[dt.datetime]) -> None:
    """Nothing completed yet: nothing learned, so no ETA is guessed."""
    for event in MID_RUN[:3]:
        bar(event)
    now[0] = at(3)
    assert draw(bar.view, 80).splitlines()[0].endswith("0/6,861 paths · 0:03 · ETA —")


def test_eta_is_learned_from_completed_invalidations() -> None:
    """In-flight ones take the mean learned duration; unsent paths follow in waves of that."""
    target = _Target(DIST, started=at(0))
    for event in MID_RUN:
        target.apply(event)
    # Learned: 4.2 s.  In flight: 3.5 s and 2.5 s old, so 0.7 s and 1.7 s left.  The 2,057
    # paths not sent fit in one wave of 3,000 (what is in flight), sent in 0.7 s: 0.7 + 4.2.
    assert target.eta(at(9)) == pytest.approx(4.9)
    target.apply(
        Completed(DIST, invalidation=invalidation("X", B1), batch=1, seconds=5.8, time=at(9))
    )
    # Learned: 5 s on average.  Batch 2 is 2.5 s old: 2.5 s left.  The waves are now as large
    # as the largest batch sent (1,804 > the 1,200 in flight): 2,057 paths take two.
    assert target.eta(at(9)) == pytest.approx(2.5 + 2 * 5.0)


def test_final_frame_says_how_it_ended(bar: _Bar, now: list[dt.datetime]) -> None:
    """Finished: the bar full, the report's elapsed time, no table; `done` or `timed out`."""
    for event in MID_RUN:
        bar(event)
    report = finished_report()
    bar(Finished(DIST, report=report, time=at(14)))
    now[0] = at(60)  # the clock no longer matters
    assert draw(bar.view, 80) == (
        "EDFDVBD6EXAMPLE ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 6,861/6,861 paths · 0:14 · done\n"
        "  batches: 5 sent, 5 completed"
    )


def test_the_live_display_draws_on_its_console(now: list[dt.datetime]) -> None:
    """`--progress bar` draws through rich's Live: the last frame stays on the terminal."""
    console = recorder(80)
    with _Bar(console=console, clock=lambda: now[0], auto_refresh=False) as display:
        for event in MID_RUN:
            now[0] = event.time
            display(event)
        display(Finished(DIST, report=finished_report(), time=at(14)))
    # Each refresh redraws in place; the recording keeps every frame, cursor moves left out.
    drawn = console.export_text()
    assert "  I14J4OH348Q9ZT      2  1,200  InProgress  0:00" in drawn
    assert drawn.rstrip().endswith(
        "EDFDVBD6EXAMPLE ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 6,861/6,861 paths · 0:14 · done\n"
        "  batches: 5 sent, 5 completed"
    )


def test_wait_for_shows_the_invalidations_waited_for(bar: _Bar, now: list[dt.datetime]) -> None:
    """`--wait-for`: no plan; the invalidations made earlier are counted as they complete."""
    statuses = {"IA": InvalidationStatus.IN_PROGRESS, "IB": InvalidationStatus.IN_PROGRESS}
    bar(Polled(DIST, operation="GetInvalidation", statuses=statuses, time=at(0)))
    bar(Completed(DIST, invalidation=invalidation("IA", B2), batch=None, seconds=30, time=at(2)))
    now[0] = at(5)
    lines = draw(bar.view, 80).splitlines()
    assert lines[0].endswith("1,200 paths · 0:05 · ETA —")
    assert lines[1:] == ["  invalidations: 1 completed, 1 in progress"]


def test_without_rich_bar_falls_back_to_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich is an optional extra: without it, `--progress bar` prints lines."""
    monkeypatch.setitem(sys.modules, "rich.live", None)
    assert isinstance(make_progress("bar"), _Lines)


async def test_a_real_run_on_virtual_time(virtual: VirtualClock) -> None:
    """Fed by a real run against the emulator: the ETA at the first completion is close."""
    frames: list[tuple[dt.datetime, str, float | None]] = []
    latencies = itertools.cycle([60.0, 90.0, 75.0, 80.0])
    runtime = virtual.runtime(seed=5)
    async with CloudFrontEmulator(latency=lambda: next(latencies), runtime=runtime) as emu:
        dist = emu.create_distribution()
        display = _Bar(console=recorder(80), clock=virtual.now, auto_refresh=False)

        def on_event(event: Event) -> None:
            display(event)
            target = display.view._targets[dist]
            if isinstance(event, Completed) and target.flights:
                frames.append((virtual.now(), draw(display.view, 80), target.eta(virtual.now())))

        with display:
            async with Invalidator(
                dist,
                endpoint_url=emu.endpoint_url,
                session=SESSION,
                verify=PLAIN_HTTP,
                runtime=runtime,
                limits=Limits(files=4, paths_per_request=2),  # two batches at a time
                on_event=on_event,
            ) as inv:
                report = await inv.invalidate([f"/p{n}" for n in range(8)])
    assert report.completed
    when, frame, eta = frames[0]
    lines = frame.splitlines()
    assert re.search(r" 2/8 paths · 1:\d\d · ETA \d:\d\d$", lines[0])
    assert lines[1] == "  batches: 2 sent, 1 completed; 4 paths still to send"
    (in_flight,) = [line for line in lines if "InProgress" in line]
    assert re.fullmatch(r"  I\w{13}      1      2  InProgress  1:\d\d", in_flight)
    left = (report.finished_at - when).total_seconds()
    assert eta is not None
    assert abs(eta - left) < 0.15 * left  # learned from one invalidation of the four
    summary = draw(render_summary([report]), 80)
    assert all(f" {i.id} " in summary for i in report.invalidations)


# --- the summary ----------------------------------------------------------------------------


def finished_report(**changes: Any) -> InvalidationReport:
    """The demo's deploy, done: five batches, all Completed, in 14 seconds."""
    sizes = [(1800, 4, 4.2), (1800, 0, 4.6), (1200, 0, 3.9), (1200, 0, 3.3), (857, 0, 4.0)]
    ids = ["IQWWY6EVF98SS3", "I5Z7Q0467BOID7", "I14J4OH348Q9ZT", "IJ375XMQ536519", "ISU3G26Q2L14"]
    batches = []
    for index, ((files, wildcards, took), invalidation_id) in enumerate(
        zip(sizes, ids, strict=True)
    ):
        batch = paths(files, wildcards, f"b{index}")
        sent = at(1 + 2.5 * index)
        batches.append(
            BatchResult(
                index=index,
                paths=batch,
                caller_reference=f"cfinv-ref-{index}",
                invalidation=invalidation(invalidation_id, batch, "Completed"),
                submitted_at=sent,
                completed_at=sent + dt.timedelta(seconds=took),
                attempts=1,
            )
        )
    fields: dict[str, Any] = {
        "distribution_id": DIST,
        "batches": tuple(batches),
        "input_count": 7662,
        "duplicates_dropped": 601,
        "covered_dropped": 200,
        "started_at": at(0),
        "finished_at": at(14.1),
        "api_calls": {"ListInvalidations": 14, "GetInvalidation": 1, "CreateInvalidation": 5},
        "retries": 0,
    }
    return InvalidationReport(**(fields | changes))


SUMMARY_80 = """\
EDFDVBD6EXAMPLE: 5 invalidations, all Completed, in 14.1s
batch   invalidation     paths   wildcards   status      duration
─────────────────────────────────────────────────────────────────
    0   IQWWY6EVF98SS3   1,804           4   Completed       4.2s
    1   I5Z7Q0467BOID7   1,800           0   Completed       4.6s
    2   I14J4OH348Q9ZT   1,200           0   Completed       3.9s
    3   IJ375XMQ536519   1,200           0   Completed       3.3s
    4   ISU3G26Q2L14       857           0   Completed       4.0s
─────────────────────────────────────────────────────────────────
total                    6,861           4                  14.1s
plan       7,662 paths given, 601 duplicates and 200 under a wildcard dropped,
           6,861 billable
API calls  14 ListInvalidations, 5 CreateInvalidation, 1 GetInvalidation; no
           retries
cost       $29.30 for 6,861 billable paths ($0.005 a path beyond the first 1,000
           a month); all 7,662 paths given would cost $33.31"""

SUMMARY_120 = """\
EDFDVBD6EXAMPLE: 5 invalidations, all Completed, in 14.1s
batch   invalidation     paths   wildcards   status      duration
─────────────────────────────────────────────────────────────────
    0   IQWWY6EVF98SS3   1,804           4   Completed       4.2s
    1   I5Z7Q0467BOID7   1,800           0   Completed       4.6s
    2   I14J4OH348Q9ZT   1,200           0   Completed       3.9s
    3   IJ375XMQ536519   1,200           0   Completed       3.3s
    4   ISU3G26Q2L14       857           0   Completed       4.0s
─────────────────────────────────────────────────────────────────
total                    6,861           4                  14.1s
plan       7,662 paths given, 601 duplicates and 200 under a wildcard dropped, 6,861 billable
API calls  14 ListInvalidations, 5 CreateInvalidation, 1 GetInvalidation; no retries
cost       $29.30 for 6,861 billable paths ($0.005 a path beyond the first 1,000 a month); all 7,662 paths given would
           cost $33.31"""  # noqa: E501 - a 120-column summary


@pytest.mark.parametrize(("width", "expected"), [(80, SUMMARY_80), (120, SUMMARY_120)])
def test_final_summary(width: int, expected: str) -> None:
    """A table of batches with totals, then paths, API calls and cost in words."""
    assert expected == draw(render_summary([finished_report()]), width)


def test_summary_of_a_run_that_timed_out() -> None:
    """Batches still in progress and never sent say so; the headline says what happened."""
    report = finished_report()
    first, second, *rest = report.batches
    assert second.invalidation is not None
    running = BatchResult(
        index=1,
        paths=second.paths,
        caller_reference=second.caller_reference,
        invalidation=invalidation(second.invalidation.id, second.paths),
        submitted_at=second.submitted_at,
    )
    unsent = [BatchResult(index=b.index, paths=b.paths, caller_reference="") for b in rest]
    timed_out = finished_report(
        batches=(first, running, *unsent), timed_out=True, retries=3, finished_at=at(95)
    )
    lines = draw(render_summary([timed_out], paths_this_month=400), 120).splitlines()
    assert lines[0] == (
        "EDFDVBD6EXAMPLE: timed out after 1m35s: 1 of 2 invalidations Completed, "
        "1 still in progress, 3 batches not sent"
    )
    assert "    1   I5Z7Q0467BOID7   1,800           0   InProgress          —" in lines
    assert "    4   —                  857           0   not sent            —" in lines
    assert lines[-3].endswith("1 GetInvalidation; 3 retries")
    assert lines[-2].startswith(
        "cost       $15.02 for 3,604 billable paths ($0.005 a path beyond the first 1,000 a "
        "month; 400 used already); all 7,662"
    )
    assert lines[-1] == "           paths given would cost $35.31"


def test_durations_and_clocks_read_as_people_write_them() -> None:
    """Seconds with a tenth under a minute, then minutes and hours; the live clock as m:ss."""
    assert [format_duration(s) for s in (0.04, 59.96, 65, 3725)] == [
        "0.0s",
        "60.0s",
        "1m05s",
        "1h02m",
    ]
    assert [format_clock(s) for s in (-1, 9.9, 754, 3725)] == ["0:00", "0:09", "12:34", "1:02:05"]


# --- what the command prints --------------------------------------------------------------


class Terminal(io.StringIO):
    """A standard output that says it is a terminal."""

    def isatty(self) -> bool:
        """Yes, a terminal."""
        return True


@pytest.fixture
def fast_emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator whose invalidations complete as they are created."""
    with CloudFrontEmulator(latency=0, rate_limits=None, runtime=Runtime.seeded(4)) as emulator:
        yield emulator


def invalidate(emu: CloudFrontEmulator, dist: str, *options: str) -> list[str]:
    endpoint = ["--endpoint-url", emu.endpoint_url]
    return ["invalidate", "--distribution-id", dist, "/a", "/b/*", "/b/c", *options, *endpoint]


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_piped_stdout_gets_the_json_report(fast_emu: CloudFrontEmulator) -> None:
    """`cfinv invalidate ... | jq`: the JSON report on stdout, progress lines on stderr."""
    dist = fast_emu.create_distribution()
    env = {k: v for k, v in os.environ.items() if k != "AWS_DEFAULT_OUTPUT"}
    done = subprocess.run(
        [sys.executable, "-m", "cfinv", *invalidate(fast_emu, dist, "--no-deploy-id")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    (report,) = json.loads(done.stdout)["Reports"]
    assert (report["DistributionId"], report["Completed"], report["BillablePaths"]) == (
        dist,
        True,
        2,
    )
    assert "━" not in done.stderr  # not a terminal: lines, not the live display
    assert "accepted as" in done.stderr


def test_a_terminal_gets_the_summary(
    fast_emu: CloudFrontEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, with no output format chosen, the summary replaces the JSON."""
    dist = fast_emu.create_distribution()
    monkeypatch.delenv("AWS_DEFAULT_OUTPUT", raising=False)
    monkeypatch.setattr(sys, "stdout", terminal := Terminal())
    code = main(invalidate(fast_emu, dist, "--progress", "none", "--no-deploy-id"))
    assert code == 0
    out = ANSI.sub("", terminal.getvalue())
    (created,) = fast_emu.invalidations(dist)
    assert out.startswith(f"{dist}: 1 invalidation, it Completed, in ")
    assert re.search(rf"\n +0 +{created.id} +2 +1 +Completed +\d+\.\ds\n", out)
    assert "3 paths given, 1 under a wildcard dropped, 2 billable" in out
    assert "$0.00 for 2 billable paths" in out


@pytest.mark.parametrize(
    ("options", "environ", "parse"),
    [
        (["--output", "json"], {}, json.loads),
        ([], {"AWS_DEFAULT_OUTPUT": "text"}, str.splitlines),
        (["--query", "Reports[0].Completed"], {}, json.loads),
    ],
)
def test_a_chosen_format_is_printed_even_on_a_terminal(
    fast_emu: CloudFrontEmulator,
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    environ: dict[str, str],
    parse: Any,
) -> None:
    """--output, AWS_DEFAULT_OUTPUT or --query: exactly the report in that format."""
    dist = fast_emu.create_distribution()
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", terminal := Terminal())
    code = main(invalidate(fast_emu, dist, "--progress", "none", "--no-deploy-id", *options))
    assert code == 0
    out = terminal.getvalue()
    assert "invalidation" not in out.split("\n", 1)[0]  # not the summary's headline
    assert parse(out)


def test_wants_summary_only_on_a_terminal_without_a_chosen_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decision, alone: a terminal, and no --output, --query, variable or profile setting."""
    import argparse

    class Profile:
        def __init__(self, output: str | None) -> None:
            self.output = output

        def get_scoped_config(self) -> dict[str, str | None]:
            return {"output": self.output}

    monkeypatch.delenv("AWS_DEFAULT_OUTPUT", raising=False)
    plain = argparse.Namespace(output=None, query=None)
    assert wants_summary(plain, Terminal())
    assert not wants_summary(plain, io.StringIO())
    assert not wants_summary(argparse.Namespace(output="json", query=None), Terminal())
    assert not wants_summary(plain, Terminal(), session=Profile("table"))
    assert wants_summary(plain, Terminal(), session=Profile(None))
    monkeypatch.setenv("AWS_DEFAULT_OUTPUT", "yaml")
    assert not wants_summary(plain, Terminal())


def test_the_demo_summary_has_no_python_reprs() -> None:
    """The demo's summary: words and figures, never a dict or an enum's repr."""
    import argparse

    console = recorder(100)
    print_reports(
        argparse.Namespace(output=None),
        printer=None,  # type: ignore[arg-type]  # the summary needs none
        reports=[finished_report()],
        command="Demo",
        human=True,
        notes=["TooManyInvalidationsInProgress answers: 0"],
        console=console,
    )
    text = console.export_text()
    assert "TooManyInvalidationsInProgress answers: 0" in text
    assert not re.search(r"[{}<>]|InvalidationStatus\.|'\w+':", text)
