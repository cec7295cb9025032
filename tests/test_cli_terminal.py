"""
On a terminal: the pager and the auto-prompt, driven through a pseudo-terminal.

``cfinv`` runs as a process whose standard streams are a pty (pexpect), as a
user's shell gives it; nothing is mocked.  A stand-in pager (a script named
``less`` first on PATH) records that it ran and with which ``LESS``; one test
runs the real ``less`` where the machine has it.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

import pytest

from cfinv import Runtime
from cfinv.testing import CloudFrontEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pexpect = pytest.importorskip("pexpect", reason="pexpect drives the pseudo-terminal")

_FAKE_PAGER = """\
#!{python}
import os, sys
name = os.path.basename(sys.argv[0])
for line in sys.stdin:
    sys.stdout.write(f"{{name}}[LESS={{os.environ.get('LESS', '-')}}]: {{line}}")
"""


@pytest.fixture(scope="module")
def emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator whose invalidations stay InProgress."""
    with CloudFrontEmulator(latency=600, rate_limits=None, runtime=Runtime.seeded(4)) as emulator:
        yield emulator


@pytest.fixture
def dist(emu: CloudFrontEmulator) -> str:
    """A distribution with one invalidation."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, ["/index.html"])
    return dist


@pytest.fixture
def pagers(tmp_path: Path) -> Path:
    """A directory with stand-in pagers named `less` and `mypager`, for PATH."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in ("less", "mypager"):
        script = directory / name
        script.write_text(_FAKE_PAGER.format(python=sys.executable))
        script.chmod(0o755)
    return directory


def _terminal(
    argv: list[str], env: dict[str, str], *, dimensions: tuple[int, int] = (24, 100)
) -> pexpect.spawn:
    """`cfinv argv` with a pty as its terminal."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "cfinv", *argv],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=dimensions,
    )


def _env(emu: CloudFrontEmulator, pagers: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"AWS_PAGER", "PAGER", "LESS"}}
    env |= emu.environ()
    if pagers is not None:
        env["PATH"] = f"{pagers}{os.pathsep}{env.get('PATH', '')}"
    env |= extra
    return env


def _output(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before).replace("\r\n", "\n")


def _list(emu: CloudFrontEmulator, dist: str, *more: str) -> list[str]:
    return [
        "list-invalidations",
        "--distribution-id",
        dist,
        "--endpoint-url",
        emu.endpoint_url,
        *more,
    ]


# --- the pager ------------------------------------------------------------------------------


def test_output_on_a_terminal_goes_through_less_with_frx(
    emu: CloudFrontEmulator, dist: str, pagers: Path
) -> None:
    """No setting: `less`, with LESS=FRX."""
    out = _output(_terminal(_list(emu, dist), _env(emu, pagers)))
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == "less[LESS=FRX]: {"
    assert all(line.startswith("less[LESS=FRX]: ") for line in lines)
    assert f'"Id": "{emu.invalidations(dist)[0].id}"' in out


def test_a_users_less_setting_is_kept(emu: CloudFrontEmulator, dist: str, pagers: Path) -> None:
    """LESS already set: left as the user has it."""
    out = _output(_terminal(_list(emu, dist), _env(emu, pagers, LESS="-S")))
    assert "less[LESS=-S]: {" in out


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"AWS_PAGER": "mypager"}, "mypager"),
        ({"AWS_PAGER": "mypager", "PAGER": "less"}, "mypager"),
        ({"PAGER": "mypager"}, "mypager"),
        ({"profile": "mypager"}, "mypager"),
        ({"profile": "mypager", "AWS_PAGER": "less"}, "less"),
        ({"profile": "less", "PAGER": "mypager"}, "less"),
        ({"AWS_PAGER": ""}, None),
        ({"profile": ""}, None),
        ({"--no-cli-pager": "", "AWS_PAGER": "mypager"}, None),
    ],
    ids=[
        "AWS_PAGER",
        "AWS_PAGER-over-PAGER",
        "PAGER",
        "profile",
        "AWS_PAGER-over-profile",
        "profile-over-PAGER",
        "empty-AWS_PAGER",
        "empty-profile",
        "no-cli-pager",
    ],
)
def test_which_pager(  # noqa: PLR0917 - fixtures and parameters
    emu: CloudFrontEmulator,
    dist: str,
    pagers: Path,
    tmp_path: Path,
    setting: dict[str, str],
    expected: str | None,
) -> None:
    """The AWS CLI v2's order: --no-cli-pager, AWS_PAGER, the profile's cli_pager, PAGER, less."""
    extra = {k: v for k, v in setting.items() if k.isupper()}
    argv = _list(emu, dist)
    if "profile" in setting:
        config = tmp_path / "config"
        config.write_text(
            f"[profile paged]\ncli_pager = {setting['profile']}\n"
            "aws_access_key_id = testing\naws_secret_access_key = testing\n"
        )
        extra["AWS_CONFIG_FILE"] = str(config)
        argv += ["--profile", "paged"]
    if "--no-cli-pager" in setting:
        argv.append("--no-cli-pager")
    out = _output(_terminal(argv, _env(emu, pagers, **extra)))
    first = out.lstrip().splitlines()[0]
    if expected is None:
        assert first == "{"
    else:
        assert first.startswith(f"{expected}[LESS=")


def test_piped_output_is_never_paged(emu: CloudFrontEmulator, dist: str, pagers: Path) -> None:
    """Stdout a pipe (stdin and stderr a terminal): no pager, whatever AWS_PAGER says."""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "cfinv", *_list(emu, dist)],
        env=_env(emu, pagers, AWS_PAGER="mypager"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.startswith("{\n")


def test_an_error_opens_no_pager(emu: CloudFrontEmulator, pagers: Path) -> None:
    """A service error: the message on stderr, no pager waiting on an empty screen."""
    child = _terminal(_list(emu, "ENOSUCHDIST"), _env(emu, pagers))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 254
    assert "NoSuchDistribution" in str(child.before)
    assert "less[" not in str(child.before)


@pytest.mark.skipif(shutil.which("less") is None, reason="less is not installed here")
def test_the_real_less_pages_long_output(emu: CloudFrontEmulator) -> None:
    """Longer than the screen: less shows the first screen and waits; q quits; exit 0."""
    dist = emu.create_distribution()
    for n in range(30):
        emu.create_invalidation(dist, [f"/p{n}"])
    # The user's own LESS (so cfinv's FRX is not added): a prompt the test can wait for.
    child = _terminal(_list(emu, dist), _env(emu, LESS="-FRX -PWAITING$"), dimensions=(20, 100))
    child.expect("WAITING")  # less's prompt, under the first screen
    first_screen = str(child.before)
    assert '"InvalidationList": {' in first_screen
    assert emu.invalidations(dist)[0].id not in first_screen  # the oldest is further down
    assert child.isalive()  # waiting for the user
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
