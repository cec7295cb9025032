# ruff: noqa: INP001 - an mkdocs hook, loaded by path (mkdocs.yml `hooks:`), not a package
"""
The docs' figures, drawn at build time from real runs (an mkdocs hook).

mkdocs.yml registers this file under ``hooks:``; on every build, `on_files`
runs a deploy against the emulator on a virtual clock and adds to the site,
under ``figures/``:

* ``deploy-timeline.svg``: each batch as a bar from its creation to
  ``Completed``, another writer's invalidation beside them, and the file
  paths in progress against CloudFront's ceiling of 3,000;
* ``poll-schedule.svg``: when `cfinv.PollPolicy` polls an invalidation,
  against its age, with botocore's waiter (every 20 s, for 10 minutes) for
  contrast;
* ``live-display.svg``: frames of ``cfinv invalidate``'s live display, drawn
  from the same run's events and recorded by rich;
* ``manifest.json``: this build's id and time, and each figure's size and
  SHA-256, so the suite can tell that the build made them.

Nothing is written to docs/: the files exist in the built site only.  The
figures are reproducible (seeded run, virtual time, fixed SVG ids, no date),
so two builds make the same bytes.  matplotlib (the ``docs`` extra) draws,
with the Agg backend.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import random
import uuid
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

    from cfinv import Event
    from cfinv.testing import VirtualClock

__all__ = ["DISTRIBUTION", "Run", "draw_figures", "on_files", "run_deploy"]

#: Where the figures go in the site.
FOLDER = "figures"
DISTRIBUTION = "EDFDVBD6EXAMPLE"
#: The deploy drawn: 9,000 changed files and 12 wildcards.
FILES = 9000
WILDCARDS = 12
#: Another team's invalidation, in progress when the deploy starts.
OTHER_FILES = 1200
OTHER_LATENCY = 95.0
SEED = 7
#: The width of the live display's terminal, in columns.
COLUMNS = 100


@attrs.frozen
class Bar:
    """One invalidation on the timeline: seconds from the deploy's start."""

    label: str
    files: int
    wildcards: int
    created: float
    completed: float
    seen: float | None  # when cfinv's poll saw it Completed (ours only)
    ours: bool


@attrs.frozen
class Run:
    """What the figures need of one deploy: the invalidations and the display's frames."""

    bars: tuple[Bar, ...]
    elapsed: float
    frames: tuple[tuple[float, str], ...]  # (seconds, frame title), drawn into `display`
    display: str  # the live display's frames, as rich's SVG


class _Recorder:
    """
    The run's events: they feed the live display, draw its frames, say when polls saw batches done.

    Frames are drawn when the first batch waits for capacity, when two batches are in flight
    after one completed (the ETA is known), and at the end.
    """

    def __init__(self, clock: VirtualClock) -> None:
        from rich.console import Console

        from cfinv.cli._progress import _Bar

        self.clock = clock
        self.start = clock.now()
        self.console = Console(record=True, width=COLUMNS, force_terminal=True, file=io.StringIO())
        self.display = _Bar(console=self.console, clock=clock.now, auto_refresh=False)
        self.frames: list[tuple[float, str]] = []
        self.batches: dict[str, int] = {}  # invalidation id -> batch index
        self.seen: dict[str, float] = {}  # invalidation id -> when a poll saw it Completed

    def age(self, moment: dt.datetime) -> float:
        """Seconds from the deploy's start to ``moment``."""
        return (moment - self.start).total_seconds()

    def __call__(self, event: Event) -> None:
        from cfinv import Completed, Finished, Polled, Submitted, WaitingForCapacity

        view = self.display.view
        view.apply(event)
        target = view._targets[DISTRIBUTION]  # noqa: SLF001 - the docs draw the display's state
        if isinstance(event, Submitted):
            self.batches[event.invalidation.id] = event.batch
        elif isinstance(event, Completed) and event.batch is not None:
            self.seen[event.invalidation.id] = self.age(event.time)
        if isinstance(event, WaitingForCapacity) and not self.frames:
            self.frame("the next batch waits for capacity")
        elif (
            isinstance(event, Polled)
            and len(self.frames) == 1
            and len(target.flights) > 1
            and target.durations
        ):
            self.frame("two batches in flight, one done")
        elif isinstance(event, Finished):
            self.frame("done")

    def frame(self, title: str) -> None:
        """Draw the display as it is now, under a rule saying when."""
        from rich.rule import Rule

        self.frames.append((self.clock.elapsed, title))
        self.console.print(Rule(f"{title} · {self.clock.elapsed:.0f} s", style="dim"))
        self.console.print(self.display.view)


async def _deploy() -> Run:
    from aiobotocore.session import AioSession

    from cfinv import Invalidator
    from cfinv.testing import CloudFrontEmulator, VirtualClock

    latencies = random.Random(SEED)  # noqa: S311 - reproducible simulated latencies
    paths = [f"/docs/page-{n}.html" for n in range(FILES)]
    paths += [f"/assets/bundle-{n}/*" for n in range(WILDCARDS)]
    async with VirtualClock() as clock:
        recorder = _Recorder(clock)
        runtime = clock.runtime(seed=SEED)
        async with CloudFrontEmulator(
            latency=lambda: latencies.uniform(60.0, 80.0), runtime=runtime
        ) as emu:
            emu.create_distribution(DISTRIBUTION)
            emu.create_invalidation(
                DISTRIBUTION,
                [f"/blog/post-{n}.html" for n in range(OTHER_FILES)],
                latency=OTHER_LATENCY,
            )
            kwargs = emu.client_kwargs()
            session = AioSession()
            session.set_credentials(kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"])
            async with Invalidator(
                DISTRIBUTION,
                endpoint_url=emu.endpoint_url,
                session=session,
                runtime=runtime,
                on_event=recorder,
            ) as invalidator:
                await invalidator.invalidate(paths)
            invalidations = emu.invalidations(DISTRIBUTION)
        bars = []
        for inv in invalidations:
            items = inv.batch.paths.items
            wildcards = sum(1 for p in items if p.endswith("*"))
            batch = recorder.batches.get(inv.id)
            bars.append(
                Bar(
                    label="another writer" if batch is None else f"batch {batch}",
                    files=len(items) - wildcards,
                    wildcards=wildcards,
                    created=recorder.age(inv.create_time),
                    completed=recorder.age(inv.complete_time),
                    seen=recorder.seen.get(inv.id),
                    ours=batch is not None,
                )
            )
    svg = recorder.console.export_svg(title=f"cfinv invalidate --distribution-id {DISTRIBUTION}")
    return Run(tuple(bars), clock.elapsed, tuple(recorder.frames), svg)


def run_deploy() -> Run:
    """Run the deploy the figures show: against the emulator, on virtual time (about a second)."""
    return asyncio.run(_deploy())


# --- drawing ----------------------------------------------------------------------------------

#: The site's indigo (mkdocs-material's primary colour), another writer's grey, the ceiling's red.
OURS = "#3f51b5"
OTHER = "#9e9e9e"
CEILING = "#c62828"
#: matplotlib settings for reproducible, light SVG: text stays text, ids come from a fixed salt.
STYLE: dict[str, object] = {
    "svg.hashsalt": "cfinv-docs",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(figure: Figure) -> bytes:
    """A matplotlib figure as SVG bytes, without a date (so builds repeat)."""
    import matplotlib.pyplot as plt

    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, facecolor="white")
    plt.close(figure)
    return out.getvalue()


def _in_progress(bars: tuple[Bar, ...]) -> tuple[list[float], list[int], list[int]]:
    """Moments, and the file paths in progress from each: another writer's, then ours."""
    moments = sorted({b.created for b in bars} | {b.completed for b in bars})
    other = [
        sum(b.files for b in bars if not b.ours and b.created <= t < b.completed) for t in moments
    ]
    ours = [sum(b.files for b in bars if b.ours and b.created <= t < b.completed) for t in moments]
    return moments, other, ours


def deploy_timeline(run: Run) -> bytes:
    """Each invalidation as a bar from creation to Completed; files in progress under 3,000."""
    import matplotlib.pyplot as plt

    with plt.style.context(STYLE):
        figure, (top, bottom) = plt.subplots(
            2, 1, figsize=(9, 5.6), sharex=True, height_ratios=[3, 2], layout="constrained"
        )
        rows = list(reversed(run.bars))
        for row, bar in enumerate(rows):
            colour = OURS if bar.ours else OTHER
            gid = bar.label.replace(" ", "-")
            top.barh(
                row,
                bar.completed - bar.created,
                left=bar.created,
                height=0.6,
                color=colour,
                gid=gid,
            )
            what = f"{bar.files:,} files" + (
                f" + {bar.wildcards} wildcards" if bar.wildcards else ""
            )
            top.text(
                bar.created + 2, row, what, va="center", ha="left", color="white", fontsize=8.5
            )
            if bar.seen is not None:
                top.plot(
                    [bar.seen], [row], marker="|", markersize=14, color="black", gid=f"{gid}-seen"
                )
        top.set_yticks(range(len(rows)), [b.label for b in rows])
        top.set_title(
            f"A deploy of {FILES:,} files and {WILDCARDS} wildcards, against the emulator"
            " (latencies of 60 to 80 s)",
            loc="left",
        )
        top.plot(
            [],
            [],
            marker="|",
            markersize=10,
            linestyle="none",
            color="black",
            label="cfinv's poll sees it Completed",
        )
        top.legend(loc="upper right", frameon=False, fontsize=8.5)
        moments, other, ours = _in_progress(run.bars)
        stacked = [o + m for o, m in zip(other, ours, strict=True)]
        bottom.fill_between(
            moments, 0, other, step="post", color=OTHER, label="another writer", gid="other-share"
        )
        bottom.fill_between(
            moments, other, stacked, step="post", color=OURS, label="this deploy", gid="our-share"
        )
        bottom.axhline(3000, color=CEILING, linestyle="--", linewidth=1.2, gid="ceiling")
        bottom.text(
            run.elapsed,
            3000,
            "CloudFront's ceiling: 3,000 files in progress",
            color=CEILING,
            ha="right",
            va="bottom",
            fontsize=8.5,
        )
        bottom.set_ylim(0, 3600)
        bottom.set_yticks([0, 1000, 2000, 3000], ["0", "1,000", "2,000", "3,000"])
        bottom.set_ylabel("files in progress")
        bottom.set_xlabel("seconds since the deploy started (virtual time)")
        bottom.set_xlim(0, run.elapsed + 5)
        bottom.legend(loc="upper left", frameon=False, fontsize=8.5, ncols=2)
        return _svg(figure)


#: How far the poll schedule is drawn: 15 minutes, a slow invalidation.
HORIZON = 900.0
#: botocore's ``invalidation_completed`` waiter: a poll every 20 s, 30 of them.
BOTOCORE_DELAY = 20.0
BOTOCORE_ATTEMPTS = 30


def poll_moments(horizon: float = HORIZON, seed: int = SEED) -> list[tuple[float, float]]:
    """The default `PollPolicy`'s polls of one invalidation: (age, pause until the next)."""
    from cfinv import PollPolicy

    policy, rng = PollPolicy(), random.Random(seed)  # noqa: S311 - reproducible jitter
    polls = []
    age = policy.first_delay(rng)
    while age <= horizon:
        pause = policy.next_delay(age, rng)
        polls.append((age, pause))
        age += pause
    return polls


def poll_schedule() -> bytes:
    """When `PollPolicy` polls an invalidation, against its age; botocore's waiter beside it."""
    import matplotlib.pyplot as plt

    polls = poll_moments()
    waiter = [BOTOCORE_DELAY * n for n in range(1, BOTOCORE_ATTEMPTS + 1)]
    with plt.style.context(STYLE):
        figure, (top, bottom) = plt.subplots(
            2, 1, figsize=(9, 4.8), sharex=True, height_ratios=[3, 1.3], layout="constrained"
        )
        top.plot(
            [a for a, _ in polls],
            [p for _, p in polls],
            marker="o",
            markersize=3.5,
            color=OURS,
            label="cfinv: PollPolicy(), a quarter of the age, 1 to 30 s, +0 to 10 % jitter",
            gid="cfinv-pauses",
        )
        top.plot(
            [0, waiter[-1]],
            [BOTOCORE_DELAY, BOTOCORE_DELAY],
            color=OTHER,
            linewidth=2,
            label="botocore's waiter: every 20 s, gives up after 10 minutes",
            gid="botocore-pauses",
        )
        top.set_ylabel("pause until the next poll (s)")
        top.set_ylim(0, 36)
        top.set_title("Poll moments of one invalidation, against its age", loc="left")
        top.legend(loc="lower right", frameon=False, fontsize=8.5)
        bottom.eventplot(
            [[a for a, _ in polls], waiter],
            lineoffsets=[1, 0],
            linelengths=0.7,
            colors=[OURS, OTHER],
            gid="poll-moments",
        )
        bottom.set_yticks([1, 0], [f"cfinv ({len(polls)} polls)", f"botocore ({len(waiter)})"])
        bottom.axvline(waiter[-1], color=CEILING, linestyle=":", linewidth=1)
        bottom.text(waiter[-1] + 5, 0, "botocore gives up", color=CEILING, va="center", fontsize=8)
        bottom.set_xlim(0, HORIZON)
        bottom.set_xlabel("age of the invalidation (s)")
        return _svg(figure)


def draw_figures(run: Run) -> dict[str, bytes]:
    """Every figure of the docs, by file name."""
    import matplotlib as mpl

    mpl.use("Agg")
    return {
        "deploy-timeline.svg": deploy_timeline(run),
        "poll-schedule.svg": poll_schedule(),
        "live-display.svg": run.display.encode(),
    }


# --- the mkdocs hook --------------------------------------------------------------------------


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Run the deploy, draw the figures and add them (and a manifest) to the site's files."""
    from mkdocs.structure.files import File

    started = dt.datetime.now(dt.timezone.utc)
    figures = draw_figures(run_deploy())
    manifest = {
        "build": uuid.uuid4().hex,
        "made": started.isoformat(),
        "figures": {
            name: {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in figures.items()
        },
    }
    figures["manifest.json"] = json.dumps(manifest, indent=2).encode()
    for name, content in figures.items():
        files.append(File.generated(config, f"{FOLDER}/{name}", content=content))
    return files
