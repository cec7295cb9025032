"""
Run the CloudFront emulator standalone: ``python -m cfinv.testing --help``.

Like ``moto_server``: other tools (the AWS CLI, SDKs in other languages, a
deploy script) point ``--endpoint-url`` at it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import sys
from typing import TYPE_CHECKING

from cfinv.models import Limits
from cfinv.runtime import Runtime
from cfinv.testing._backend import RateLimit
from cfinv.testing._emulator import DEFAULT_RATE_LIMITS, CloudFrontEmulator

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def _latency(text: str) -> float | tuple[float, float]:
    low, sep, high = text.partition("-")
    try:
        return (float(low), float(high)) if sep else float(low)
    except ValueError:
        msg = f"expected SECONDS or MIN-MAX, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


_EXAMPLES = """\
examples:
  cfinv serve --port 5123 --distribution EDFDVBD6EXAMPLE
  cfinv serve --latency 30-90 --paths-per-request 1000 --debug
  aws cloudfront list-invalidations --distribution-id EDFDVBD6EXAMPLE \\
      --endpoint-url http://127.0.0.1:5123     (credentials: testing / testing)
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Keeps the examples as written; each option's help ends with its default."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return text
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = action.default is not None and action.default not in (False, argparse.SUPPRESS, [])
        if shown and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser(prog: str = "python -m cfinv.testing") -> argparse.ArgumentParser:
    """The emulator's command-line options (shared with ``cfinv serve``)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        usage=f"{prog} [options]",
        description="Run cfinv's CloudFront invalidation emulator on this machine, for the "
        "AWS CLI, SDKs in any language and deploy scripts (point --endpoint-url at it).",
        epilog=_EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    where = parser.add_argument_group("where it listens, what it holds")
    where.add_argument("--host", default="127.0.0.1", help="address to listen on")
    where.add_argument(
        "--port", type=int, default=5000, help="port to listen on; 0 picks a free one"
    )
    where.add_argument(
        "--distribution",
        action="append",
        default=[],
        metavar="ID",
        help="create this distribution at start (repeatable); one is generated if none given",
    )
    where.add_argument(
        "--tenant",
        action="append",
        default=[],
        metavar="ID",
        help="create this distribution tenant (repeatable)",
    )
    where.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate made at start; prints the CA bundle to trust",
    )
    where.add_argument(
        "--tls-dir",
        metavar="DIR",
        help="with --tls: write the CA bundle, certificate and key here "
        "(default: a temporary directory)",
    )
    behaviour = parser.add_argument_group("CloudFront's behaviour and limits")
    behaviour.add_argument(
        "--latency",
        type=_latency,
        default=5.0,
        metavar="SECONDS|MIN-MAX",
        help="seconds an invalidation stays InProgress, fixed or uniformly random",
    )
    behaviour.add_argument(
        "--files-limit", type=int, default=3000, metavar="N", help="file paths in progress"
    )
    behaviour.add_argument(
        "--wildcards-limit", type=int, default=15, metavar="N", help="wildcards in progress"
    )
    behaviour.add_argument(
        "--path-length", type=int, default=4000, metavar="N", help="longest path accepted"
    )
    behaviour.add_argument(
        "--paths-per-request",
        type=int,
        default=None,
        metavar="N",
        help="answer 413 BatchTooLarge above this many paths in one request (default: no cap)",
    )
    behaviour.add_argument(
        "--create-rate",
        type=float,
        default=0.5,
        metavar="PER_SECOND",
        help="CreateInvalidation calls per second",
    )
    behaviour.add_argument(
        "--create-burst", type=int, default=5, metavar="N", help="CreateInvalidation burst"
    )
    behaviour.add_argument(
        "--no-rate-limit", action="store_true", help="never answer Throttling on its own"
    )
    behaviour.add_argument(
        "--request-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="close connections that send a request slower than this, or idle longer",
    )
    behaviour.add_argument(
        "--conflict-code",
        choices=["observed", "documented"],
        default="observed",
        help="answer to a reused CallerReference: InvalidArgument (observed) or "
        "InvalidationBatchAlreadyExists (documented)",
    )
    access = parser.add_argument_group("credentials")
    access.add_argument("--access-key", default="testing", help="accepted access key id")
    access.add_argument(
        "--secret-key",
        default="testing",
        help="accepted secret access key; printed only when it is the default",
    )
    access.add_argument("--no-auth", action="store_true", help="accept unsigned requests")
    other = parser.add_argument_group("other")
    other.add_argument("--seed", type=int, default=None, help="seed for ids and random latency")
    other.add_argument(
        "--debug", action="store_true", help="log each request on stderr: operation, target, answer"
    )
    return parser


def emulator_from_args(args: argparse.Namespace) -> CloudFrontEmulator:
    """Build the emulator the parsed options describe."""
    latency: float | Callable[[], float]
    if isinstance(args.latency, tuple):
        rng = random.Random(args.seed)  # noqa: S311 - simulated latency, not a secret
        low, high = args.latency
        latency = lambda: rng.uniform(low, high)  # noqa: E731
    else:
        latency = args.latency
    rates = None if args.no_rate_limit else dict(DEFAULT_RATE_LIMITS)
    if rates is not None:
        for name in ("CreateInvalidation", "CreateInvalidationForDistributionTenant"):
            rates[name] = RateLimit(args.create_rate, args.create_burst)
    emulator = CloudFrontEmulator(
        host=args.host,
        port=args.port,
        latency=latency,
        limits=Limits(
            args.files_limit, args.wildcards_limit, args.path_length, args.paths_per_request
        ),
        rate_limits=rates,
        conflict_code=args.conflict_code,
        credentials=None if args.no_auth else {args.access_key: args.secret_key},
        runtime=Runtime() if args.seed is None else Runtime.seeded(args.seed),
        tls=args.tls,
        tls_dir=args.tls_dir,
        request_timeout=args.request_timeout,
    )
    for distribution_id in args.distribution or [None]:
        emulator.create_distribution(distribution_id)
    for tenant_id in args.tenant:
        emulator.create_distribution_tenant(tenant_id)
    return emulator


async def serve(emulator: CloudFrontEmulator, args: argparse.Namespace) -> None:
    """Serve until cancelled, after printing where and what."""
    async with emulator:
        print(f"CloudFront emulator listening on {emulator.endpoint_url}", flush=True)
        for distribution_id in emulator.distributions:
            print(f"  distribution {distribution_id}", flush=True)
        for tenant_id in emulator.distribution_tenants:
            print(f"  distribution tenant {tenant_id}", flush=True)
        if args.no_auth:
            auth = "off (unsigned requests accepted)"
        elif args.secret_key == "testing":  # noqa: S105 - the well-known default, not a secret
            auth = f"access key {args.access_key}, secret key testing"
        else:
            auth = f"access key {args.access_key}, the secret key given"  # never printed
        print(f"  credentials: {auth}", flush=True)
        bundle = emulator.ca_bundle
        if bundle is not None:
            print(
                f"  TLS: trust the CA bundle {bundle}\n"
                f"       (--ca-bundle {bundle}, AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS)",
                flush=True,
            )
        print(
            f"  control API: {emulator.endpoint_url}/_cfinv/ (JSON; see the testing docs)\n"
            "  press Ctrl-C to stop",
            flush=True,
        )
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # no signal handlers here
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()  # SIGTERM ends it cleanly (Ctrl-C too, through asyncio.run)


def _log_requests() -> None:
    """``--debug``: the emulator's line for each request, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("cfinv.testing")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def main(argv: Sequence[str] | None = None, prog: str = "python -m cfinv.testing") -> int:
    """Entry point: parse options and serve until interrupted."""
    args = build_parser(prog).parse_args(argv)
    if args.debug:
        _log_requests()
    try:
        asyncio.run(serve(emulator_from_args(args), args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"{prog}: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # --tls without the cryptography package
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
