"""
Every code example in README.md and docs/ runs, against the emulator.

A fenced block is run according to its language:

* ``python``: executed as a script;
* ``bash`` / ``sh`` / ``console``: executed with bash (``set -euo pipefail``);
* ``yaml``: parsed; in a GitHub Actions workflow, every ``run:`` step that
  calls ``cfinv`` is executed with bash too;
* ``text``, ``json``, ``toml`` and ``ini`` show output or configuration and
  are not run;
* ``javascript`` must be preceded by ``<!-- test: same-as PATH -->`` and be
  that file of the repository, word for word: the suite runs the file
  (tests/test_emulator_js.py), and this keeps the docs' copy the same.

Everything runs with the AWS environment pointed at a CloudFront emulator that
holds the distributions the docs use (``EDFDVBD6EXAMPLE`` and friends), so an
example written for real CloudFront runs unchanged.  A block preceded by
``<!-- test: skip REASON -->`` is not run; the reason is required.  A block in
a language not listed above fails this test, so nothing is silently left out.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest
import yaml

from cfinv import Runtime
from cfinv.testing import CloudFrontEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RUN = {"python", "bash", "sh", "console", "yaml"}
SHOWN = {"text", "json", "toml", "ini"}
COPIED = {"javascript"}  # the same as a file of the repository, which the suite runs
#: The distributions and tenants the docs refer to; the emulator has them all.
DISTRIBUTIONS = ["EDFDVBD6EXAMPLE", "E1WWWEXAMPLE01", "E2DOCSEXAMPLE02", "E3APIEXAMPLE03"]
TENANTS = ["dt_2wjDZi3hD1ivOXf6rpZJOSNE1AB"]

_FENCE = re.compile(
    r"(?P<marker><!--\s*test:\s*(?P<directive>\w+)(?P<reason>[^>]*)-->\s*\n)?"
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)


@attrs.frozen
class Example:
    """One fenced code block of the docs."""

    path: Path
    line: int
    lang: str
    body: str
    skip: str | None
    same_as: str | None = None

    @property
    def id(self) -> str:
        """``docs/file.md:42``."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def examples() -> list[Example]:
    """Every fenced block of every document."""
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            indent = match["indent"]
            body = "".join(
                line.removeprefix(indent) for line in match["body"].splitlines(keepends=True)
            )
            skip = same_as = None
            if match["directive"] == "skip":
                skip = match["reason"].strip() or "(no reason given)"
            elif match["directive"] == "same":
                same_as = match["reason"].removeprefix("-as").strip()
            line = text.count("\n", 0, match.start("lang")) + 1
            found.append(Example(path, line, match["lang"] or "", body, skip, same_as))
    return found


EXAMPLES = examples()


@pytest.fixture(scope="module")
def docs_emulator() -> Iterator[CloudFrontEmulator]:
    """
    The emulator every example talks to: the docs' distributions.

    Invalidations complete as they are created, so an example that waits for
    completion does not wait for a poll: the examples show what happens, not how
    long it takes (the how-tos that show waiting run emulators of their own).
    """
    with CloudFrontEmulator(latency=0, rate_limits=None, runtime=Runtime.seeded(1)) as emulator:
        for distribution_id in DISTRIBUTIONS:
            emulator.create_distribution(distribution_id)
        for tenant_id in TENANTS:
            emulator.create_distribution_tenant(tenant_id)
        yield emulator


@pytest.fixture
def docs_env(
    docs_emulator: CloudFrontEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, str]:
    """The environment of one example: AWS pointed at the emulator, a scratch directory."""
    env = {
        **docs_emulator.environ(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CFINV_DOCS_EMULATOR": docs_emulator.endpoint_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "changed-paths.txt").write_text("/index.html\n/css/site.css\n/img/*\n")
    return env


def _bash(script: str, env: dict[str, str], where: str) -> None:
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (
        f"{where} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(example: Example, docs_env: dict[str, str], tmp_path: Path) -> None:
    """Run one example of the docs."""
    if example.lang in COPIED:
        assert example.same_as, (
            f"{example.id}: say which file it shows: <!-- test: same-as PATH -->"
        )
        assert example.body == (ROOT / example.same_as).read_text(encoding="utf-8"), (
            f"{example.id} differs from {example.same_as}"
        )
        return
    if example.lang not in RUN | SHOWN:
        pytest.fail(
            f"{example.id}: code block in {example.lang or 'no language'}: run it or mark it"
        )
    if example.skip is not None:
        pytest.skip(example.skip)
    if example.lang in SHOWN:
        pytest.skip(f"{example.lang} shows output or configuration")
    if example.lang == "python":
        script = tmp_path / "example.py"
        script.write_text(example.body, encoding="utf-8")
        runpy.run_path(str(script), run_name="__main__")
    elif example.lang == "yaml":
        document = yaml.safe_load(example.body)
        for step in _workflow_steps(document):
            _bash(step, docs_env, example.id)
    else:
        commands = "\n".join(
            line.removeprefix("$ ") for line in example.body.splitlines() if line.strip()
        )
        _bash(commands, docs_env, example.id)


def _workflow_steps(document: object) -> list[str]:
    """The `run:` scripts of a GitHub Actions workflow that call cfinv."""
    if not isinstance(document, dict) or "jobs" not in document:
        return []
    steps = []
    for job in document["jobs"].values():
        for step in job.get("steps", []):
            run = step.get("run")
            if isinstance(run, str) and "cfinv " in run and "pip install" not in run:
                steps.append(run)
    return steps


def test_every_skip_has_a_reason() -> None:
    """A skipped example says why it cannot run here."""
    for example in EXAMPLES:
        if example.skip is not None:
            assert example.skip != "(no reason given)", example.id


def test_the_readme_test_command_is_what_ci_runs() -> None:
    """The README's test command and .ci/run's agree, so the README stays true."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test]' && python -m pytest" in readme
    assert "\npython -m pytest" in ci
