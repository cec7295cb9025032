"""
The ``cfinv`` command line: the AWS CLI's global options and every subcommand.

Built with argparse only, and importing nothing heavy, so ``cfinv --version``
and ``cfinv --help`` answer at once.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, NoReturn

from cfinv.cli._errors import CommandLineError
from cfinv.cli._output import OUTPUT_FORMATS

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["build_parser"]

DESCRIPTION = """\
Fast, cheap and safe CloudFront invalidations.

AWS CLI compatible:   create-invalidation, get-invalidation, list-invalidations,
                      their -for-distribution-tenant forms, and
                      wait invalidation[-for-distribution-tenant]-completed
                      (same options, same output)
The full pipeline:    invalidate   normalise, dedupe, cover, chunk, schedule, retry, wait
Try it locally:       demo         a whole deploy against the built-in emulator
                      serve        run the CloudFront emulator for other tools
"""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are `CommandLineError`: reported by the command (or prompted for)."""

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(message, usage=self.format_usage(), prog=self.prog)


def _globals(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The AWS CLI's global options; accepted before or after the subcommand."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options (as in the AWS CLI)")
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log every request and response to stderr; show tracebacks",
    )
    group.add_argument(
        "--endpoint-url",
        default=default(None),
        metavar="URL",
        help="send requests to this URL instead of CloudFront's",
    )
    group.add_argument(
        "--no-verify-ssl",
        action="store_true",
        default=default(False),
        help="do not verify TLS certificates",
    )
    group.add_argument(
        "--no-paginate",
        action="store_true",
        default=default(False),
        help="make one call only (list-invalidations)",
    )
    group.add_argument(
        "--output",
        choices=OUTPUT_FORMATS,
        default=default(None),
        help="output format (default: AWS_DEFAULT_OUTPUT, the profile's, or json)",
    )
    group.add_argument(
        "--query",
        default=default(None),
        metavar="JMESPATH",
        help="a JMESPath query applied to the response",
    )
    group.add_argument("--profile", default=default(None), help="the profile to use")
    group.add_argument(
        "--region",
        default=default(None),
        help="the region (CloudFront is global; us-east-1 if unset)",
    )
    group.add_argument(
        "--version", action="store_true", default=default(False), help="print the version and exit"
    )
    group.add_argument(
        "--color",
        choices=("on", "off", "auto"),
        default=default("auto"),
        help="colour in table output (default: auto)",
    )
    group.add_argument(
        "--no-sign-request",
        action="store_true",
        default=default(False),
        help="send unsigned requests (no credentials are loaded)",
    )
    group.add_argument(
        "--ca-bundle",
        default=default(None),
        metavar="PATH",
        help="the CA certificate bundle to verify TLS with",
    )
    group.add_argument(
        "--cli-read-timeout",
        type=int,
        default=default(None),
        metavar="SECONDS",
        help="socket read timeout; 0 waits forever (default: 60)",
    )
    group.add_argument(
        "--cli-connect-timeout",
        type=int,
        default=default(None),
        metavar="SECONDS",
        help="socket connect timeout; 0 waits forever (default: 60)",
    )
    group.add_argument(
        "--cli-binary-format",
        choices=("base64", "raw-in-base64-out"),
        default=default(None),
        help="accepted for compatibility; no invalidation parameter is binary",
    )
    group.add_argument(
        "--no-cli-pager",
        action="store_true",
        default=default(False),
        help="do not page output on a terminal (default pager: AWS_PAGER, cli_pager, PAGER, less)",
    )
    prompt = group.add_mutually_exclusive_group()
    prompt.add_argument(
        "--cli-auto-prompt",
        dest="cli_auto_prompt",
        action="store_true",
        default=default(False),
        help="edit the command line interactively (completion, help) before it runs",
    )
    prompt.add_argument(
        "--no-cli-auto-prompt",
        dest="no_cli_auto_prompt",
        action="store_true",
        default=default(False),
        help="never prompt, whatever AWS_CLI_AUTO_PROMPT or the profile says",
    )


def _input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cli-input-json",
        metavar="JSON|file://PATH",
        help="the parameters as JSON; options on the command line win",
    )
    parser.add_argument(
        "--cli-input-yaml",
        metavar="YAML|file://PATH",
        help="the parameters as YAML; options on the command line win",
    )
    parser.add_argument(
        "--generate-cli-skeleton",
        nargs="?",
        const="input",
        choices=("input", "yaml-input", "output"),
        help="print a parameter (or output) skeleton and exit",
    )


# Each command's usage and examples, shown first by --help (the options follow, the
# command's own first, then the AWS CLI's global ones).  At most 78 columns a line.
_INDENT = "\n" + " " * len("usage: cfinv ")
_USAGE = {
    "create-invalidation": (
        (
            "cfinv create-invalidation --distribution-id ID"
            f"{_INDENT}(--paths PATH ... | --invalidation-batch VALUE) [options]"
        ),
        (
            "  cfinv create-invalidation --distribution-id EDFDVBD6EXAMPLE \\\n"
            "      --paths /index.html '/img/*'\n"
            "  cfinv create-invalidation --distribution-id EDFDVBD6EXAMPLE \\\n"
            "      --invalidation-batch 'Paths={Quantity=1,Items=[/a]},CallerReference=d42'"
        ),
    ),
    "get-invalidation": (
        "cfinv get-invalidation --distribution-id ID --id ID [options]",
        "  cfinv get-invalidation --distribution-id EDFDVBD6EXAMPLE --id I2J0I21PCUYOIK",
    ),
    "list-invalidations": (
        "cfinv list-invalidations --distribution-id ID [options]",
        "  cfinv list-invalidations --distribution-id EDFDVBD6EXAMPLE --max-items 5",
    ),
    "create-invalidation-for-distribution-tenant": (
        (
            "cfinv create-invalidation-for-distribution-tenant --id TENANT"
            f"{_INDENT}--invalidation-batch VALUE [options]"
        ),
        "",
    ),
    "get-invalidation-for-distribution-tenant": (
        (
            "cfinv get-invalidation-for-distribution-tenant"
            f"{_INDENT}--distribution-tenant-id TENANT --id ID [options]"
        ),
        "",
    ),
    "list-invalidations-for-distribution-tenant": (
        "cfinv list-invalidations-for-distribution-tenant --id TENANT [options]",
        "",
    ),
    "wait": ("cfinv wait WAITER --distribution-id ID --id ID [options]", ""),
    "invalidate": (
        (
            "cfinv invalidate --distribution-id ID [--distribution-id ID ...]"
            f"{_INDENT}[options] [PATH ...]"
        ),
        (
            "  cfinv invalidate --distribution-id EDFDVBD6EXAMPLE /index.html '/css/*'\n"
            "  git diff --name-only HEAD~1 -- public | sed 's|^public||' |\n"
            "      cfinv invalidate --distribution-id EDFDVBD6EXAMPLE --paths-from -\n"
            "  cfinv invalidate --distribution-id EDFDVBD6EXAMPLE --dry-run \\\n"
            "      --paths-from changed.txt\n"
            "  cfinv invalidate --distribution-tenant-id dt_2wXEXAMPLE --timeout 900 /a"
        ),
    ),
    "demo": ("cfinv demo [options]", "  cfinv demo\n  cfinv demo --speed 10 --progress lines"),
    "serve": ("cfinv serve [options]", ""),
}


def _seconds(*, zero: bool) -> Callable[[str], float]:
    """A duration option: a finite number of seconds, above zero (or at least zero)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            msg = f"expected a number of seconds, got {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            bound = "0 or more" if zero else "above 0"
            msg = f"expected a number of seconds {bound}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def _count(smallest: int) -> Callable[[str], int]:
    """A whole number option of at least ``smallest``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            msg = f"expected a whole number, got {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if value < smallest:
            msg = f"expected a whole number of at least {smallest}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps the description's paragraphs; keeps indented lines (examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if any(line.startswith("  ") for line in paragraph.splitlines()):
                paragraphs.append(paragraph)
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


def _list_options(parser: argparse.ArgumentParser) -> None:
    """The AWS CLI's pagination options of a list command."""
    parser.add_argument(
        "--max-items", type=_count(1), metavar="N", help="stop after N invalidations"
    )
    parser.add_argument(
        "--starting-token", metavar="TOKEN", help="continue from a NextToken printed before"
    )
    parser.add_argument(
        "--page-size", type=_count(1), metavar="N", help="invalidations per API call"
    )
    parser.add_argument("--marker", help=argparse.SUPPRESS)
    _input_options(parser)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``cfinv`` command line."""
    parser = _Parser(
        prog="cfinv",
        usage="cfinv [options] <command> [parameters]",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes follow AWS CLI v2: 252 usage, 253 configuration, 254 service error, "
        "255 other failure, 130 interrupted (CFINV_EXIT_CODES=v1 for AWS CLI v1's codes).",
    )
    _globals(parser, suppress=False)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, prog="cfinv"
    )

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        usage, examples = _USAGE.get(name, (f"cfinv {name} [options]", ""))
        description = help_text[:1].upper() + help_text[1:] + "."
        if examples:
            description += "\n\nexamples:\n" + examples + "\n"
        sub = commands.add_parser(
            name,
            help=help_text,
            description=description,
            usage=usage,
            formatter_class=_HelpFormatter,
        )
        _globals(sub, suppress=True)
        return sub

    create = command(
        "create-invalidation",
        "create one invalidation, sent as given (as `aws cloudfront create-invalidation`)",
    )
    create.add_argument("--distribution-id", metavar="ID", help="the distribution (required)")
    batch = create.add_mutually_exclusive_group()
    batch.add_argument(
        "--invalidation-batch",
        metavar="SHORTHAND|JSON|file://PATH",
        help="Paths={Quantity=int,Items=[string,...]},CallerReference=string, as JSON, or file://",
    )
    batch.add_argument(
        "--paths",
        nargs="+",
        metavar="PATH",
        help="the paths, space-separated; a CallerReference cli-<epoch>-<n> is made up",
    )
    _input_options(create)

    get = command(
        "get-invalidation", "show one invalidation (as `aws cloudfront get-invalidation`)"
    )
    get.add_argument("--distribution-id", metavar="ID", help="the distribution (required)")
    get.add_argument("--id", metavar="ID", help="the invalidation (required)")
    _input_options(get)

    listing = command(
        "list-invalidations",
        "list invalidations, newest first (as `aws cloudfront list-invalidations`)",
    )
    listing.add_argument("--distribution-id", metavar="ID", help="the distribution (required)")
    _list_options(listing)

    create_tenant = command(
        "create-invalidation-for-distribution-tenant",
        "create one invalidation for a distribution tenant, sent as given",
    )
    create_tenant.add_argument("--id", metavar="ID", help="the distribution tenant (required)")
    create_tenant.add_argument(
        "--invalidation-batch",
        metavar="SHORTHAND|JSON|file://PATH",
        help="Paths={Quantity=int,Items=[string,...]},CallerReference=string (required)",
    )
    _input_options(create_tenant)

    get_tenant = command(
        "get-invalidation-for-distribution-tenant",
        "show one invalidation of a distribution tenant",
    )
    get_tenant.add_argument(
        "--distribution-tenant-id", metavar="ID", help="the distribution tenant (required)"
    )
    get_tenant.add_argument("--id", metavar="ID", help="the invalidation (required)")
    _input_options(get_tenant)

    list_tenant = command(
        "list-invalidations-for-distribution-tenant",
        "list a distribution tenant's invalidations, newest first",
    )
    list_tenant.add_argument("--id", metavar="ID", help="the distribution tenant (required)")
    _list_options(list_tenant)

    wait = command("wait", "wait until an invalidation is Completed (as `aws cloudfront wait`)")
    waiters = wait.add_subparsers(
        dest="waiter", metavar="WAITER", parser_class=_Parser, prog="cfinv wait"
    )
    waiters.required = True
    for name, id_option in (
        ("invalidation-completed", "--distribution-id"),
        ("invalidation-for-distribution-tenant-completed", "--distribution-tenant-id"),
    ):
        waiter = waiters.add_parser(
            name,
            help=f"poll until the invalidation is Completed ({name})",
            usage=f"cfinv wait {name} {id_option} ID --id ID [options]",
        )
        _globals(waiter, suppress=True)
        waiter.add_argument(id_option, metavar="ID", help="(required)")
        waiter.add_argument("--id", metavar="ID", help="the invalidation (required)")
        waiter.add_argument(
            "--delay",
            type=_seconds(zero=True),
            default=20.0,
            help="seconds between polls (AWS's waiter: 20)",
        )
        waiter.add_argument(
            "--max-attempts",
            type=_count(1),
            default=30,
            help="polls before giving up (AWS's waiter: 30)",
        )
        _input_options(waiter)

    _pipeline_commands(command)
    return parser


def _pipeline_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """invalidate, demo and serve: cfinv's own commands."""
    invalidate = command(
        "invalidate",
        "the full pipeline: clean up the paths, send them in batches within CloudFront's "
        "limits, retry, and wait until every invalidation is Completed",
    )
    invalidate.add_argument(
        "--distribution-id",
        action="append",
        default=[],
        metavar="ID",
        help="a distribution to invalidate (repeatable)",
    )
    invalidate.add_argument(
        "--distribution-tenant-id",
        action="append",
        default=[],
        metavar="ID",
        help="a distribution tenant to invalidate (repeatable)",
    )
    invalidate.add_argument("paths", nargs="*", metavar="PATH", help="paths to invalidate")
    invalidate.add_argument(
        "--paths",
        dest="more_paths",
        nargs="+",
        default=[],
        metavar="PATH",
        help="more paths (as in create-invalidation)",
    )
    invalidate.add_argument(
        "--paths-from",
        action="append",
        default=[],
        metavar="FILE|-",
        help="read paths from a file, one per line ('-' for stdin)",
    )
    waiting = invalidate.add_mutually_exclusive_group()
    waiting.add_argument(
        "--wait",
        dest="wait",
        action="store_true",
        default=True,
        help="wait until every invalidation is Completed (the default)",
    )
    waiting.add_argument(
        "--no-wait", dest="wait", action="store_false", help="return once every batch is accepted"
    )
    invalidate.add_argument(
        "--timeout",
        type=_seconds(zero=False),
        metavar="SECONDS",
        help="give up waiting after this long (exit 255, partial report)",
    )
    invalidate.add_argument(
        "--dry-run", action="store_true", help="print the plan and its cost; send nothing"
    )
    deploy = invalidate.add_mutually_exclusive_group()
    deploy.add_argument(
        "--deploy-id",
        metavar="ID",
        help="name the deploy: a re-run with the same id sends only what earlier runs did not (default: the CI run id, if any)",
    )
    deploy.add_argument(
        "--no-deploy-id",
        action="store_true",
        help="no deploy id, even in CI: every run sends all its paths",
    )
    invalidate.add_argument(
        "--no-discovery",
        dest="discovery",
        action="store_false",
        help="read nothing before sending (no ListInvalidations or GetInvalidation of other "
        "writers, no deploy id from CI): with --no-wait, only cloudfront:CreateInvalidation "
        "is needed",
    )
    invalidate.add_argument(
        "--wait-for",
        nargs="+",
        default=[],
        metavar="INVALIDATION_ID",
        help="wait for these invalidations (created earlier, by anyone) instead of sending paths",
    )
    invalidate.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "json", "none"),
        default="auto",
        help="progress on stderr: a live display on a terminal, lines otherwise (default: auto)",
    )
    collapse = invalidate.add_argument_group(
        "spending less (see the docs' 'Spend less' page)",
        "With the site's tree, cfinv sends the exact paths and wildcards that cover the change "
        "within a budget of billable paths and invalidate the fewest unchanged paths.",
    )
    collapse.add_argument(
        "--tree",
        metavar="DIR|FILE|s3://BUCKET/PREFIX",
        help="every path the site serves after the deploy: a build directory, a listing "
        "file (one path per line) or an S3 bucket and prefix",
    )
    collapse.add_argument(
        "--max-paths",
        type=_count(1),
        metavar="N",
        help="at most N billable paths, a wildcard counting as one (needs --tree; default: "
        "the cheapest budget, each object invalidated for nothing priced at $0.0005)",
    )
    collapse.add_argument(
        "--max-wildcards",
        type=_count(0),
        metavar="N",
        help="at most N wildcards (needs --tree)",
    )
    collapse.add_argument(
        "--index-document",
        metavar="NAME",
        help="the file a directory URL serves (index.html): a changed /a/index.html "
        "invalidates /a/ too",
    )
    invalidate.add_argument(
        "--paths-this-month",
        type=_count(0),
        default=0,
        metavar="N",
        help="paths already invalidated this month, for --dry-run's cost",
    )

    demo = command("demo", "a realistic deploy against the built-in emulator (about 20 s)")
    demo.add_argument(
        "--seed", type=int, default=2026, help="makes the generated deploy repeatable"
    )
    demo.add_argument(
        "--speed",
        type=_seconds(zero=False),
        default=1.0,
        help="scale the emulator's latency down by this factor (tests use 20)",
    )
    demo.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "json", "none"),
        default="auto",
        help="progress display on stderr",
    )

    serve = command("serve", "run the CloudFront emulator on this machine (like moto_server)")
    serve.add_argument(
        "serve_args",
        nargs=argparse.REMAINDER,
        help="the emulator's options: --port, --latency, ... (see cfinv serve --help)",
    )
