"""
Specs for restarts: a real `cfinv invalidate` stopped by a signal, then run again.

The emulator runs in another process (`cfinv serve`), as CloudFront would.  The
full trials (50 per signal, at seeded random moments) are
`tests/benchmarks/trial_restarts.py`; these run a few of the same trials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.benchmarks.trial_restarts import distribution_of, emulator, trial

if TYPE_CHECKING:
    from collections.abc import Iterator

# SIGTERM takes SIGINT's path (exit 143 instead of 130); the trials script runs all three.
CASES = [("KILL", 0, 1.5), ("INT", 0, 2.5)]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with emulator([distribution_of(kind, n) for kind, n, _ in CASES]) as url:
        yield url


@pytest.mark.parametrize(("kind", "n", "moment"), CASES)
def test_a_stopped_deploy_rerun_sends_every_path_exactly_once(
    endpoint: str, kind: str, n: int, moment: float
) -> None:
    """SIGKILL or SIGINT while it runs, then the re-run (or the printed resume command)."""
    outcome = trial(endpoint, kind, n, seed=7, files=3200, moment=moment)  # two batches
    assert outcome["problems"] == []
    assert outcome["invalidations"] >= 2
