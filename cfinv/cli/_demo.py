"""
``cfinv demo``: a realistic deploy's invalidation against the built-in emulator.

The emulator runs in this process with CloudFront's limits and create rate,
and latencies scaled down from minutes to seconds.  Another team's
invalidation is already in progress on the distribution, as happens in real
life.  The changed paths are those of a documentation site release: several
languages, images, duplicates, non-ASCII and spaced file names, and a few
rebuilt sections sent as wildcards.

The live display goes to stderr; the summary (a table of the batches, the
paths dropped and billed, the cost, the API calls) to stdout, on a terminal
or not: the demo is for people.  ``--output`` prints the report instead.
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


__all__ = ["demo_paths", "run_demo"]

_LANGUAGES = ["en", "de", "fr", "ja", "es"]
_SECTIONS = ["guide", "reference", "tutorials", "blog", "api"]
_ODD_NAMES = [
    "café au lait",
    "naïve résumé",
    "日本語のページ",
    "Release Notes 2.4",
    "größe & maße",
    "100% done",
    "señor {draft}",
]


def demo_paths(seed: int) -> list[str]:
    """The changed paths of a realistic site release (about 7,500, with duplicates)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    pages = [
        f"/{lang}/{section}/page-{n}.html"
        for lang in _LANGUAGES
        for section in _SECTIONS
        for n in range(230)
    ]
    images = [f"/img/{section}/figure-{n}.png" for section in _SECTIONS for n in range(200)]
    odd = [
        f"/{lang}/blog/{name} {n}.html"
        for lang in _LANGUAGES
        for name in _ODD_NAMES
        for n in range(3)
    ]
    wildcards = ["/assets/js/*", "/assets/css/*", "/img/thumbs/*", "/search-index/*"]
    covered = [f"/assets/js/chunk-{n}.js" for n in range(120)] + [
        f"/img/thumbs/t{n}.webp" for n in range(80)
    ]
    unique = pages + images + odd + wildcards + covered
    # Build tools list some files twice (a page and its redirect, say).
    duplicates = rng.sample(unique, 600)
    paths = unique + duplicates + ["index.html", "/index.html", "/sitemap.xml"]
    rng.shuffle(paths)
    return paths


async def _run(args: argparse.Namespace) -> int:
    from aiobotocore.session import AioSession

    from cfinv import Runtime
    from cfinv.cli._aws import make_printer
    from cfinv.cli._invalidate import run_pipeline
    from cfinv.cli._summary import print_reports
    from cfinv.testing import CloudFrontEmulator

    printer = make_printer(args)  # a bad --query or output type is said before the demo runs
    rng = random.Random(args.seed)  # noqa: S311 - simulated latency
    speed = max(args.speed, 0.01)
    # CloudFront takes one to two minutes; the demo takes as many seconds, times 3.
    latency = lambda: rng.uniform(3.0, 5.0) / speed  # noqa: E731
    paths = demo_paths(args.seed)
    out = sys.stderr
    async with CloudFrontEmulator(latency=latency, runtime=Runtime.seeded(args.seed)) as emu:
        distribution = emu.create_distribution("EDFDVBD6EXAMPLE")
        other = emu.create_invalidation(
            distribution, [f"/legacy/page-{n}.html" for n in range(1200)], latency=4.0 / speed
        )
        out.write(
            f"cfinv demo: the CloudFront emulator on {emu.endpoint_url}\n"
            f"  distribution {distribution}: another team's invalidation {other.id}\n"
            "  (1,200 paths) is already in progress\n"
            f"  deploying {len(paths):,} changed paths: duplicates, non-ASCII and spaced\n"
            "  names, 4 wildcards\n\n"
        )
        out.flush()
        args.wait, args.timeout, args.endpoint_url = True, None, emu.endpoint_url
        kwargs = emu.client_kwargs()
        session = AioSession()
        session.set_credentials(kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"])
        reports, errors = await run_pipeline(
            args, paths, distributions=[distribution], tenants=[], session=session
        )
        if errors:
            for error in errors.values():
                out.write(f"cfinv demo: {error}\n")
            return 1
        (report,) = reports
        refused = sum(1 for c in emu.calls if c.error_code == "TooManyInvalidationsInProgress")
    # The demo is for people: the summary, wherever stdout goes, unless --output asks otherwise.
    print_reports(
        args,
        printer,
        [report],
        command="Demo",
        human=not args.output,
        notes=[f"TooManyInvalidationsInProgress answers: {refused}"],
    )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; its exit code."""
    return asyncio.run(_run(args))
