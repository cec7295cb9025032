"""The command's own errors and the exit codes of the AWS CLI."""

from __future__ import annotations

import os
import sys

__all__ = ["EXIT", "USAGE_HINT", "CommandLineError", "Interrupted", "UsageError", "exit_code"]

#: AWS CLI v2's exit codes (https://docs.aws.amazon.com/cli/latest/userguide/cli-chap-returncodes.html).
EXIT = {
    "ok": 0,
    "interrupted": 130,
    "usage": 252,  # the command line or a parameter value was invalid
    "config": 253,  # the environment or configuration was invalid (e.g. no credentials)
    "service": 254,  # the service answered with an error
    "other": 255,  # anything else: connection failures, waiters giving up, timeouts
}

#: AWS CLI v1 (the one on PyPI) answers 2 for a command line it cannot parse
#: and 255 for every other failure.  CFINV_EXIT_CODES=v1 selects these.
_V1 = {"usage": 255, "config": 255, "service": 255, "other": 255}


def exit_code(kind: str, *, parse_error: bool = False) -> int:
    """The exit code for a failure of ``kind`` under the selected convention."""
    if os.environ.get("CFINV_EXIT_CODES", "v2").lower() == "v1":
        return 2 if parse_error else _V1.get(kind, EXIT[kind])
    return EXIT[kind]


#: What argparse prints before ``cfinv: error: ...``, as the AWS CLI does.
USAGE_HINT = """\
usage: cfinv [options] <command> [parameters]
To see help text, you can run:

  cfinv --help
  cfinv <command> --help
"""


class UsageError(Exception):
    """
    The command cannot run as given; the message says why and what to do.

    Attributes:
        code: The exit code's kind (see `EXIT`).
    """

    def __init__(self, message: str, *, code: str = "usage") -> None:
        super().__init__(message)
        self.code = code


class CommandLineError(UsageError):
    """
    The command line is incomplete or wrong.

    No command, a required option missing, an option the command does not
    take.  Printed as argparse and the AWS CLI print it: the usage, then
    ``<prog>: error: <message>``; exit 252, or 2 under AWS CLI v1's codes.
    With the auto-prompt ``on-partial``, the user is prompted instead.

    Attributes:
        usage: The usage text printed first.
        prog: The program (or subcommand) named before ``error:``.
    """

    def __init__(self, message: str, *, usage: str = USAGE_HINT, prog: str = "cfinv") -> None:
        super().__init__(message)
        self.usage = usage
        self.prog = prog

    def report(self) -> int:
        """Print it on stderr; the exit code."""
        sys.stderr.write(f"{self.usage}{self.prog}: error: {self}\n")
        return exit_code("usage", parse_error=True)


class Interrupted(Exception):
    """
    SIGINT or SIGTERM stopped the command; it exits with 128 + the signal's number.

    Attributes:
        signal_number: The signal.
        reported: Whether the command already said what it did and how to resume.
    """

    def __init__(self, signal_number: int) -> None:
        super().__init__(f"interrupted by signal {signal_number}")
        self.signal_number = signal_number
        self.reported = False
