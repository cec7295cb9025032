"""
A deploy id from the CI system's environment: one that stays the same when a job is retried.

A retried job must get the same deploy id as the attempt it repeats, so that
cfinv recognises what that attempt created and sends only the rest.  Each CI
system below documents a variable that survives a retry of the job; the job's
name is added, so that two jobs of one run that invalidate the same
distribution are two deploys.  Jenkins has no such variable (a rebuild is a
new build with a new number): there, pass ``--deploy-id``.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CI_SYSTEMS", "DetectedId", "detect_deploy_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX = 64


@attrs.frozen
class CiSystem:
    """
    Where one CI system keeps its run id.

    Attributes:
        name: The system, for messages and docs.
        marker: A variable set in every job of the system.
        run: The variable naming the run, the same when a job is retried.
        job: The variable naming the job within the run, if any.
        short: The deploy id's first part.
    """

    name: str
    marker: str
    run: str
    job: str | None
    short: str


#: The systems cfinv reads, in the order it looks for them.
CI_SYSTEMS = (
    CiSystem("GitHub Actions", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_JOB", "gh"),
    CiSystem("GitLab CI", "GITLAB_CI", "CI_PIPELINE_ID", "CI_JOB_NAME", "gl"),
    CiSystem("CircleCI", "CIRCLECI", "CIRCLE_WORKFLOW_WORKSPACE_ID", "CIRCLE_JOB", "cc"),
    CiSystem("Buildkite", "BUILDKITE", "BUILDKITE_BUILD_ID", "BUILDKITE_STEP_KEY", "bk"),
)


@attrs.frozen
class DetectedId:
    """A deploy id read from the environment, and where it came from."""

    deploy_id: str | None
    source: str


def _clean(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")


def detect_deploy_id(environ: Mapping[str, str]) -> DetectedId:
    """
    The deploy id the CI environment gives, or ``None`` with the reason.

    Args:
        environ: The environment (``os.environ``).
    """
    for system in CI_SYSTEMS:
        if not environ.get(system.marker) or not environ.get(system.run):
            continue
        run = _clean(environ[system.run])
        job = _clean(environ.get(system.job, "")) if system.job else ""
        deploy_id = "-".join(part for part in (system.short, run, job) if part)
        if len(deploy_id) > _MAX:
            digest = hashlib.sha256(deploy_id.encode()).hexdigest()[:12]
            deploy_id = f"{deploy_id[: _MAX - 13]}-{digest}"
        names = " and ".join(v for v in (system.run, system.job) if v and environ.get(v))
        return DetectedId(deploy_id, f"{system.name}: {names}")
    if environ.get("JENKINS_URL"):
        return DetectedId(None, "Jenkins has no run id that survives a rebuild: pass --deploy-id")
    return DetectedId(None, "no CI run id found")
