"""
The ``cfinv`` command.

``cfinv create-invalidation`` (and ``get-invalidation``, ``list-invalidations``,
``wait invalidation-completed``) accept what ``aws cloudfront ...`` accepts and
print what it prints; ``cfinv invalidate`` runs the library's whole pipeline;
``cfinv demo`` shows it against the built-in emulator; ``cfinv serve`` runs the
emulator for other tools.  Heavy modules load only when a command needs them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING, Any

from cfinv.cli._errors import CommandLineError, Interrupted, UsageError, exit_code
from cfinv.cli._parser import build_parser

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Sequence

__all__ = ["main"]

_AWS_COMMANDS = {
    "create-invalidation",
    "get-invalidation",
    "list-invalidations",
    "create-invalidation-for-distribution-tenant",
    "get-invalidation-for-distribution-tenant",
    "list-invalidations-for-distribution-tenant",
    "wait",
}


def version_string() -> str:
    """``cfinv/<v> Python/<v> <system>/<release> botocore/<v>``, like ``aws --version``."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        botocore_version = version("botocore")
    except PackageNotFoundError:  # pragma: no cover - botocore comes with aiobotocore
        botocore_version = "missing"
    return (
        f"cfinv/{version('cfinv')} Python/{platform.python_version()} "
        f"{platform.system()}/{platform.release()} botocore/{botocore_version}"
    )


def _interrupt(number: int, _frame: object) -> None:
    raise Interrupted(number)


@contextlib.contextmanager
def _signals_interrupt(*, after: Any = None) -> Iterator[None]:
    """
    While the command runs, SIGINT and SIGTERM raise `Interrupted` (exit 130 or 143).

    Event loops take them over while they run (``cfinv invalidate`` stops its
    calls and reports); a signal anywhere else ends the command the same way.
    Afterwards the handlers in place before come back, or ``after`` is put in
    their place.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {n: signal.signal(n, _interrupt) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if after is None else after)


def _fail(message: str, kind: str, args: argparse.Namespace | None) -> int:
    from cfinv.cli._debug import redact

    sys.stderr.write(f"\n{redact(message)}\n")
    if args is not None and getattr(args, "debug", False):
        from cfinv.cli._debug import redact

        sys.stderr.write(redact(traceback.format_exc()))
    return exit_code(kind)


def _classify(exc: BaseException) -> tuple[str, str] | None:  # noqa: PLR0911 - one return per error family
    """(message, exit kind) for an error the command reports instead of a traceback."""
    from cfinv.errors import (
        CfinvError,
        CloudFrontError,
        ConfigurationError,
        InvalidPathError,
    )

    if isinstance(exc, UsageError):
        return str(exc), exc.code
    if isinstance(exc, InvalidPathError):
        return str(exc), "usage"
    if isinstance(exc, CloudFrontError):
        operation = exc.operation or "CloudFront"
        said = (
            f"An error occurred ({exc.code}) when calling the {operation} operation: {exc.message}"
        )
        return f"{said}{_signature_hint(exc)}", "service"
    if isinstance(exc, ConfigurationError):
        return str(exc), "config"
    if "cfinv.trees" in sys.modules:
        from cfinv.trees import TreeSourceError

        if isinstance(exc, TreeSourceError):  # --tree: a local problem, or S3's answer
            return str(exc), "usage" if exc.code is None else "service"
    if isinstance(exc, CfinvError):
        return str(exc), "other"
    if "jmespath" in sys.modules:
        from jmespath.exceptions import JMESPathError

        if isinstance(exc, JMESPathError):  # --query met a value of the wrong type
            return f"Bad value for --query: {exc}", "other"
    return _classify_botocore(exc) if "botocore" in sys.modules else None


def _classify_botocore(exc: BaseException) -> tuple[str, str] | None:  # noqa: PLR0911
    """(message, exit kind) for botocore's own errors, or None."""
    from botocore import exceptions as bce

    if isinstance(exc, bce.ClientError):
        from cfinv.errors import map_client_error  # the library's hint for signatures

        return f"{exc}{_signature_hint(map_client_error(exc))}", "service"
    if isinstance(exc, (bce.ParamValidationError, bce.ValidationError)):
        return str(exc), "usage"
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        hint = (
            "Configure credentials with environment variables "
            "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), a profile, or `aws configure`."
        )
        return f"{str(exc).rstrip('.')}. {hint}", "config"
    if isinstance(exc, (bce.ProfileNotFound, bce.NoRegionError, bce.ConfigParseError)):
        return str(exc), "config"
    if isinstance(exc, bce.SSLError):
        from cfinv.errors import map_client_error  # the library's words for TLS failures

        return str(map_client_error(exc)), "config"
    if isinstance(exc, bce.BotoCoreError):
        return str(exc), "other"
    return None


def _signature_hint(error: BaseException) -> str:
    """
    For a signature refused, the library's hint on a line of its own, else ``""``.

    The AWS CLI prints CloudFront's words alone; for a signature they leave the
    cause to guess (a region other than us-east-1, a clock off, a wrong secret).
    """
    from cfinv.errors import SignatureDoesNotMatch

    return f"\n{error.hint}" if isinstance(error, SignatureDoesNotMatch) else ""


def _run(args: argparse.Namespace) -> int:
    if args.command in _AWS_COMMANDS:
        from cfinv.cli._aws import run_aws_command

        run_aws_command(args)
        return 0
    if args.command == "invalidate":
        from cfinv.cli._invalidate import run_invalidate

        failures = run_invalidate(args)
        if not failures:
            return 0
        from cfinv.cli._debug import redact

        worst = 0
        for failure in failures:
            message, kind = _classify(failure) or (str(failure), "other")
            sys.stderr.write(f"\n{redact(message)}\n")
            worst = max(worst, exit_code(kind))
        return worst
    if args.command == "demo":
        from cfinv.cli._demo import run_demo

        return run_demo(args)
    msg = f"unknown command {args.command!r}"  # pragma: no cover - argparse refuses it first
    raise UsageError(msg)


# Global options that take a value: the token after them is not the command.
_VALUE_OPTIONS = {
    "--endpoint-url",
    "--output",
    "--query",
    "--profile",
    "--region",
    "--color",
    "--ca-bundle",
    "--cli-read-timeout",
    "--cli-connect-timeout",
    "--cli-binary-format",
}


def _first_command(argv: Sequence[str]) -> int | None:
    skip_next = False
    for index, token in enumerate(argv):
        if skip_next:
            skip_next = False
        elif token.startswith("-"):
            skip_next = token in _VALUE_OPTIONS
        else:
            return index
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cfinv``; returns the exit code."""
    return _command(list(sys.argv[1:] if argv is None else argv))


def _command(argv: list[str], *, after_signals: Any = None) -> int:
    """The command, with SIGINT and SIGTERM ending it cleanly (see `_signals_interrupt`)."""
    index = _first_command(argv)
    if index is not None and argv[index] == "serve":
        from cfinv.testing.__main__ import main as serve

        return serve(argv[index + 1 :], prog="cfinv serve")  # serves until Ctrl-C or SIGTERM
    with _signals_interrupt(after=after_signals):
        try:
            return _main(argv)
        except BrokenPipeError:
            # The reader went away (`cfinv ... | head -1`): stop quietly, as the AWS CLI.
            _discard_stdout()
            return 0
        except Interrupted as stopped:
            if not stopped.reported:
                _say_stopped(stopped, argv)
            return 128 + stopped.signal_number  # 130 for SIGINT, 143 for SIGTERM


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit cannot fail again."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # not a real file
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _say_stopped(stopped: Interrupted, argv: list[str]) -> None:
    """Stopped before the command could report: say so (and, for invalidate, how to resume)."""
    sys.stderr.write(f"\ncfinv: stopped by {signal.Signals(stopped.signal_number).name}\n")
    index = _first_command(argv)
    if index is not None and argv[index] == "invalidate":
        import shlex

        again = shlex.join(["cfinv", *argv])
        sys.stderr.write(f"cfinv: to resume (sends only what is missing): {again}\n")


def _not_utf8(argv: list[str]) -> str | None:
    """The first argument the terminal gave in bytes that are not UTF-8, if any."""
    # Python keeps such bytes as lone surrogates (U+DC80 to U+DCFF): surrogateescape.
    return next((w for w in argv if any("\udc80" <= c <= "\udcff" for c in w)), None)


def _main(argv: list[str]) -> int:
    index = _first_command(argv)
    if index is not None and argv[index] == "cloudfront":
        del argv[index]  # `cfinv cloudfront create-invalidation ...`, as typed for `aws`
    bad = _not_utf8(argv)
    if bad is not None:
        shown = bad.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return CommandLineError(f"argument '{shown}' is not valid UTF-8").report()
    from cfinv.cli._prompt import prompt_mode

    try:
        mode = prompt_mode(argv)
    except UsageError as exc:
        return _fail(str(exc), exc.code, None)
    parser = build_parser()
    if mode == "on":
        return _prompted(argv, parser)
    try:
        return _parse_and_run(parser, argv)
    except CommandLineError as incomplete:
        if mode == "on-partial":
            return _prompted(argv, parser)  # incomplete: complete it on the terminal
        return incomplete.report()


def _prompted(argv: list[str], parser: argparse.ArgumentParser) -> int:
    """The auto-prompt: the user edits the command line, then it runs."""
    from cfinv.cli._prompt import ask_command_line

    try:
        argv = ask_command_line(argv, parser)
    except KeyboardInterrupt:
        return exit_code("interrupted")
    except CommandLineError as wrong:
        return wrong.report()
    except UsageError as exc:
        return _fail(str(exc), exc.code, None)
    index = _first_command(argv)
    if index is not None and argv[index] == "serve":
        from cfinv.testing.__main__ import main as serve

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it, with 0
        return serve(argv[index + 1 :], prog="cfinv serve")
    try:
        return _parse_and_run(parser, argv)
    except CommandLineError as wrong:
        return wrong.report()


def _parse_and_run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    """
    Parse and run the command line.

    Raises:
        CommandLineError: It is incomplete or wrong (not reported yet).
    """
    args = parser.parse_args(argv)
    args.argv = argv  # as typed: `invalidate` prints the command that resumes it
    if args.version:
        sys.stdout.write(version_string() + "\n")
        return 0
    if not args.command:
        msg = "the following arguments are required: command"
        raise CommandLineError(msg)
    if not args.debug:
        return _run_guarded(args)
    from cfinv.cli._debug import debug_logging

    with debug_logging():
        return _run_guarded(args)


def _run_guarded(args: argparse.Namespace) -> int:
    """Run the command; errors the command knows become a message and an exit code."""
    try:
        return _run(args)
    except KeyboardInterrupt:  # a second Ctrl-C, after an event loop gave SIGINT back
        sys.stderr.write("\n")
        return exit_code("interrupted")
    except Exception as exc:
        if isinstance(exc, (Interrupted, CommandLineError)):
            raise
        known = _classify(exc)
        if known is None:
            raise
        return _fail(known[0], known[1], args)


def entry_point() -> None:
    """
    The console script: ``sys.exit(main())``.

    Once the command is done, the process only exits: a signal arriving then
    is ignored, rather than turning a finished run into one killed by it.
    """
    sys.exit(_command(sys.argv[1:], after_signals=signal.SIG_IGN))
