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

import pexpect
import pytest

from cfinv import Runtime
from cfinv.testing import CloudFrontEmulator
from tests.cli_support import Terminal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


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
) -> pexpect.spawn[str]:
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


def _output(child: pexpect.spawn[str]) -> str:
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


# --- the auto-prompt ------------------------------------------------------------------------


def _prompt_env(emu: CloudFrontEmulator, **extra: str) -> dict[str, str]:
    return _env(emu, None, AWS_PAGER="", AWS_ENDPOINT_URL=emu.endpoint_url, **extra)


def test_auto_prompt_completes_options_with_their_help(emu: CloudFrontEmulator, dist: str) -> None:
    """--cli-auto-prompt: the command line to edit; options complete, with help; Enter runs it."""
    made = emu.invalidations(dist)[0]
    terminal = Terminal(["get-invalidation", "--cli-auto-prompt"], _prompt_env(emu))
    terminal.wait_for("> cfinv get-invalidation")
    terminal.wait_for("get-invalidation: show one invalidation")  # the help bar
    terminal.type("--dist")
    terminal.wait_for("--distribution-id  the distribution (required)")  # the completion menu
    terminal.type("\t")
    terminal.wait_for("> cfinv get-invalidation --distribution-id")
    terminal.type(f" {dist} --")
    terminal.wait_for("--id")  # options not given yet are offered
    assert "--distribution-id  the" not in terminal.display  # ...and given ones are not
    terminal.type(f"id {made.id}")
    terminal.wait_for("--id: the invalidation (required)")  # the bar explains the option
    terminal.type("\r")
    assert terminal.finish() == 0
    assert f'"Id": "{made.id}"' in terminal.display


def test_auto_prompt_completes_commands(emu: CloudFrontEmulator, dist: str) -> None:
    """No command yet: the commands are offered with what they do."""
    terminal = Terminal(["--cli-auto-prompt"], _prompt_env(emu))
    terminal.wait_for("> cfinv")
    terminal.type("list-inv")
    terminal.wait_for("list-invalidations-for-distribution-tenant")
    terminal.wait_for("list invalidations, newest first")
    terminal.type(f"alidations --distribution-id {dist} --output text\r")
    assert terminal.finish() == 0
    assert f"{emu.invalidations(dist)[0].id}  InProgress" in terminal.display


@pytest.mark.parametrize("where", ["environment", "profile"])
def test_on_partial_prompts_only_for_an_incomplete_command(
    emu: CloudFrontEmulator, dist: str, tmp_path: Path, where: str
) -> None:
    """on-partial (AWS_CLI_AUTO_PROMPT or cli_auto_prompt): a complete command just runs."""
    made = emu.invalidations(dist)[0]
    if where == "environment":
        env = _prompt_env(emu, AWS_CLI_AUTO_PROMPT="on-partial")
        profile: list[str] = []
    else:
        config = tmp_path / "config"
        config.write_text(
            "[profile prompted]\ncli_auto_prompt = on-partial\n"
            "aws_access_key_id = testing\naws_secret_access_key = testing\n"
        )
        env = _prompt_env(emu, AWS_CONFIG_FILE=str(config))
        profile = ["--profile", "prompted"]
    complete = Terminal(
        ["get-invalidation", "--distribution-id", dist, "--id", made.id, *profile], env
    )
    assert complete.finish() == 0
    assert "> cfinv" not in complete.display
    assert f'"Id": "{made.id}"' in complete.display

    incomplete = Terminal(["get-invalidation", "--distribution-id", dist, *profile], env)
    incomplete.wait_for(f"> cfinv get-invalidation --distribution-id {dist}")
    incomplete.type(f"--id {made.id}\r")
    assert incomplete.finish() == 0
    assert f'"Id": "{made.id}"' in incomplete.display


def test_no_cli_auto_prompt_wins(emu: CloudFrontEmulator, dist: str) -> None:
    """--no-cli-auto-prompt over AWS_CLI_AUTO_PROMPT=on: the usage error, no prompt."""
    terminal = Terminal(
        ["get-invalidation", "--distribution-id", dist, "--no-cli-auto-prompt"],
        _prompt_env(emu, AWS_CLI_AUTO_PROMPT="on"),
    )
    assert terminal.finish() == 252
    assert "cfinv: error: the following arguments are required: --id" in terminal.display


def test_cancelling_the_prompt_runs_nothing(emu: CloudFrontEmulator, dist: str) -> None:
    """Ctrl-C at the prompt: exit 130, nothing sent."""
    before = len(emu.invalidations(dist))
    terminal = Terminal(
        ["create-invalidation", "--distribution-id", dist, "--paths", "/x"],
        _prompt_env(emu, AWS_CLI_AUTO_PROMPT="on"),
    )
    terminal.wait_for("> cfinv create-invalidation --distribution-id")
    terminal.type("\x03")
    assert terminal.finish() == 130
    assert len(emu.invalidations(dist)) == before


def test_a_bad_auto_prompt_setting_is_named(emu: CloudFrontEmulator) -> None:
    """AWS_CLI_AUTO_PROMPT=sometimes: a configuration error that names the value."""
    terminal = Terminal(["list-invalidations"], _prompt_env(emu, AWS_CLI_AUTO_PROMPT="sometimes"))
    assert terminal.finish() == 253
    assert "Bad value for AWS_CLI_AUTO_PROMPT: 'sometimes'" in terminal.display


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('"unclosed', "cannot read the pager setting"),
        ("no-such-pager-here", "the pager 'no-such-pager-here' was not found"),
    ],
)
def test_a_pager_that_cannot_run_prints_directly(
    emu: CloudFrontEmulator, dist: str, setting: str, said: str
) -> None:
    """A broken pager setting: said on stderr, and the output printed as if unpaged."""
    out = _output(_terminal(_list(emu, dist), _env(emu, AWS_PAGER=setting)))
    assert said in out
    assert '"InvalidationList": {' in out


@pytest.mark.skipif(shutil.which("less") is None, reason="less is not installed here")
def test_ctrl_c_belongs_to_the_pager(emu: CloudFrontEmulator) -> None:
    """Ctrl-C in less (to stop a search) does not stop cfinv; q quits with 0, output complete."""
    dist = emu.create_distribution()
    for n in range(30):
        emu.create_invalidation(dist, [f"/p{n}"])
    child = _terminal(_list(emu, dist), _env(emu, LESS="-FRX -PWAITING$"), dimensions=(20, 100))
    child.expect("WAITING")
    child.sendcontrol("c")
    child.expect("WAITING")  # less is still there, prompting again
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "stopped by SIGINT" not in str(child.before)


def test_serve_typed_at_the_prompt_runs_the_emulator(emu: CloudFrontEmulator) -> None:
    """`serve ...` completed at the prompt starts the emulator, as typed on the command line."""
    terminal = Terminal(["--cli-auto-prompt"], _prompt_env(emu))
    terminal.wait_for("> cfinv")
    terminal.type("serve --port 0 --distribution EPROMPTED\r")
    terminal.wait_for("  distribution EPROMPTED\n")  # the banner, not the typed line
    terminal.type("\x03")
    assert terminal.finish() == 0
