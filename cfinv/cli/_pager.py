"""
The AWS CLI v2's pager: output on a terminal goes through ``less``.

Which pager, first match wins (as in the AWS CLI v2):

1. ``--no-cli-pager``: none;
2. ``AWS_PAGER``, if set (empty: none);
3. the profile's ``cli_pager``, if set (empty: none);
4. ``PAGER``, if set (empty: none);
5. ``less``, with ``LESS=FRX`` unless ``LESS`` is set: it quits at once when
   the output fits on one screen (F), keeps colours (R) and leaves the
   output on the screen (X).

Only when standard output is a terminal: piped or redirected output is never
paged.  The AWS-compatible commands page their output; ``invalidate``,
``demo`` and ``serve`` do not (their progress is live).
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

__all__ = ["paged_stdout", "pager_command"]

_DEFAULT = "less"
_DEFAULT_LESS = "FRX"


def pager_command(args: argparse.Namespace, session: Any = None) -> str | None:
    """The pager to run for this command, or None to print directly."""
    if getattr(args, "no_cli_pager", False) or not sys.stdout.isatty():
        return None
    if "AWS_PAGER" in os.environ:
        return os.environ["AWS_PAGER"] or None
    if session is not None:
        try:
            configured = session.get_scoped_config().get("cli_pager")
        except Exception:  # noqa: BLE001 - a broken profile is reported when the client is made
            configured = None
        if configured is not None:
            return str(configured) or None
    if "PAGER" in os.environ:
        return os.environ["PAGER"] or None
    return _DEFAULT


class _PagerStream(io.TextIOBase):
    """Text written here goes to the pager, which starts at the first write."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__()
        self._argv = argv
        self._process: subprocess.Popen[str] | None = None
        self._direct = False  # the pager could not start: print to stdout
        self._sigint: Any = None  # SIGINT's handler before the pager started

    def _pipe(self) -> IO[str]:
        if self._direct:
            return sys.stdout
        if self._process is None:
            env = dict(os.environ)
            env.setdefault("LESS", _DEFAULT_LESS)
            sys.stdout.flush()
            try:
                self._process = subprocess.Popen(  # noqa: S603 - the user's own pager setting
                    self._argv,
                    stdin=subprocess.PIPE,
                    env=env,
                    text=True,
                    encoding=sys.stdout.encoding or "utf-8",
                    errors="replace",
                )
            except OSError as exc:
                sys.stderr.write(
                    f"cfinv: cannot run the pager {self._argv[0]!r} ({exc.strerror or exc}); "
                    "printing directly\n"
                )
                self._direct = True
                return sys.stdout
            # As the AWS CLI: Ctrl-C belongs to the pager (less uses it to stop a search).
            self._sigint = _ignore_sigint()
        assert self._process.stdin is not None  # noqa: S101 - stdin=PIPE
        return self._process.stdin

    def write(self, text: str) -> int:
        """Send ``text`` to the pager (started now if it is the first)."""
        return self._pipe().write(text)

    def flush(self) -> None:
        """Flush what the pager has not read yet."""
        if self._process is not None or self._direct:
            self._pipe().flush()

    def finish(self) -> None:
        """End the pager's input and wait until the user quits it."""
        if self._process is None:
            return
        try:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._pipe().close()
            self._process.wait()
        finally:
            _restore_sigint(self._sigint)


def _ignore_sigint() -> Any:
    """Ignore SIGINT (from the main thread only); the handler it had."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_sigint(handler: Any) -> None:
    if handler is not None:
        signal.signal(signal.SIGINT, handler)


@contextlib.contextmanager
def paged_stdout(args: argparse.Namespace, session: Any = None) -> Iterator[IO[str]]:
    """
    Where the command prints: a pager's input, or stdout when there is no pager.

    The pager starts with the first output (an error prints none, so no
    pager opens) and the command waits until the user quits it; output they
    did not read is dropped quietly, as when they quit early.  A pager that
    cannot be found is said on stderr, and the output printed directly.
    """
    command = pager_command(args, session)
    try:
        argv = shlex.split(command) if command else []
    except ValueError as exc:  # an unclosed quote in AWS_PAGER, say
        sys.stderr.write(
            f"cfinv: cannot read the pager setting {command!r} ({exc}); printing directly\n"
        )
        argv = []
    if not argv:
        yield sys.stdout
        return
    if shutil.which(argv[0]) is None:
        sys.stderr.write(f"cfinv: the pager {argv[0]!r} was not found; printing directly\n")
        yield sys.stdout
        return
    stream = _PagerStream(argv)
    try:
        yield stream  # type: ignore[misc]
    except BrokenPipeError:
        pass  # the user quit the pager before the end
    finally:
        stream.finish()
