"""
The AWS CLI compatible commands: create-invalidation, get-invalidation, list-invalidations, wait.

They send the request exactly as given (no normalisation: the AWS CLI's
behaviour) and print what the AWS CLI prints.  Each makes one request (or
one page walk), so they use botocore's synchronous client, the same botocore
that aiobotocore drives: identical signing, parsing, paginators and waiters,
without paying for asyncio and aiohttp at start-up (about 0.15 s per run).
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from cfinv.cli._errors import CommandLineError, UsageError
from cfinv.cli._output import OUTPUT_FORMATS, Printer, format_yaml, write_json
from cfinv.cli._pager import paged_stdout
from cfinv.cli._params import INVALIDATION_BATCH, load_value, parse_structure, skeleton

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

__all__ = ["COMMANDS", "AwsCommand", "command_of", "run_aws_command"]

_INVALIDATION_OUT = {
    "Id": "string",
    "Status": "string",
    "CreateTime": "timestamp",
    "InvalidationBatch": INVALIDATION_BATCH,
}
_CREATED = {"Location": "string", "Invalidation": _INVALIDATION_OUT}
_LISTED = {
    "InvalidationList": {
        "Marker": "string",
        "NextMarker": "string",
        "MaxItems": "integer",
        "IsTruncated": "boolean",
        "Quantity": "integer",
        "Items": [{"Id": "string", "CreateTime": "timestamp", "Status": "string"}],
    }
}


@attrs.frozen
class AwsCommand:
    """
    One command of ``aws cloudfront``, as cfinv offers it.

    Attributes:
        operation: The API operation (``CreateInvalidation``).
        options: Each string parameter taken from the command line:
            (parameter, ``args`` attribute, option as typed).
        required: The parameters the command cannot run without.
        shape_in: The input shape, in model order (``--generate-cli-skeleton``).
        shape_out: The output shape (``--generate-cli-skeleton output``).
        kind: ``create``, ``get``, ``list`` or ``wait``.
    """

    operation: str
    options: tuple[tuple[str, str, str], ...]
    required: tuple[str, ...]
    shape_in: dict[str, Any]
    shape_out: dict[str, Any]
    kind: str

    @property
    def method(self) -> str:
        """The client method (``create_invalidation``)."""
        import re

        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.operation).lower()

    def option(self, parameter: str) -> str:
        """The option that sets ``parameter`` (``--distribution-id``)."""
        for name, _, option in self.options:
            if name == parameter:
                return option
        return f"--{parameter}"


_BATCH = {"InvalidationBatch": INVALIDATION_BATCH}
_DIST = ("DistributionId", "distribution_id", "--distribution-id")
_ID = ("Id", "id", "--id")
#: Every ``aws cloudfront`` command cfinv offers, by name.
COMMANDS: dict[str, AwsCommand] = {
    "create-invalidation": AwsCommand(
        "CreateInvalidation",
        (_DIST,),
        ("DistributionId", "InvalidationBatch"),
        {"DistributionId": "string", **_BATCH},
        _CREATED,
        "create",
    ),
    "get-invalidation": AwsCommand(
        "GetInvalidation",
        (_DIST, _ID),
        ("DistributionId", "Id"),
        {"DistributionId": "string", "Id": "string"},
        {"Invalidation": _INVALIDATION_OUT},
        "get",
    ),
    "list-invalidations": AwsCommand(
        "ListInvalidations",
        (_DIST,),
        ("DistributionId",),
        # MaxItems is a string in this operation's model (an integer for tenants).
        {"DistributionId": "string", "Marker": "string", "MaxItems": "string"},
        _LISTED,
        "list",
    ),
    "create-invalidation-for-distribution-tenant": AwsCommand(
        "CreateInvalidationForDistributionTenant",
        (_ID,),
        ("Id", "InvalidationBatch"),
        {"Id": "string", **_BATCH},
        _CREATED,
        "create",
    ),
    "get-invalidation-for-distribution-tenant": AwsCommand(
        "GetInvalidationForDistributionTenant",
        (("DistributionTenantId", "distribution_tenant_id", "--distribution-tenant-id"), _ID),
        ("DistributionTenantId", "Id"),
        {"DistributionTenantId": "string", "Id": "string"},
        {"Invalidation": _INVALIDATION_OUT},
        "get",
    ),
    "list-invalidations-for-distribution-tenant": AwsCommand(
        "ListInvalidationsForDistributionTenant",
        (_ID,),
        ("Id",),
        {"Id": "string", "Marker": "string", "MaxItems": "integer"},
        _LISTED,
        "list",
    ),
    "wait invalidation-completed": AwsCommand(
        "GetInvalidation",
        (_DIST, _ID),
        ("DistributionId", "Id"),
        {"DistributionId": "string", "Id": "string"},
        {},
        "wait",
    ),
    "wait invalidation-for-distribution-tenant-completed": AwsCommand(
        "GetInvalidationForDistributionTenant",
        (("DistributionTenantId", "distribution_tenant_id", "--distribution-tenant-id"), _ID),
        ("DistributionTenantId", "Id"),
        {"DistributionTenantId": "string", "Id": "string"},
        {},
        "wait",
    ),
}


def command_of(args: argparse.Namespace) -> AwsCommand:
    """The `AwsCommand` the command line names (``wait`` with its waiter)."""
    if args.command == "wait":
        return COMMANDS[f"wait {args.waiter}"]
    return COMMANDS[args.command]


def chosen_output(args: argparse.Namespace, session: Any = None) -> str | None:
    """
    The output format the user chose, or None.

    ``--output``, else ``AWS_DEFAULT_OUTPUT``, else the profile's ``output``.

    Raises:
        UsageError: The environment or the profile names an unknown format.
    """
    import os

    if args.output:
        return str(args.output)
    chosen = os.environ.get("AWS_DEFAULT_OUTPUT")
    if not chosen and session is not None:
        try:
            chosen = session.get_scoped_config().get("output")
        except Exception:  # noqa: BLE001 - a broken profile is reported when the client is made
            chosen = None
    if not chosen:
        return None
    if chosen not in OUTPUT_FORMATS:
        raise UsageError(f"Unknown output type: {chosen}", code="other")
    return str(chosen)


def output_format(args: argparse.Namespace, session: Any = None) -> str:
    """The output format: the one chosen (`chosen_output`), else json."""
    return chosen_output(args, session) or "json"


def make_printer(
    args: argparse.Namespace, session: Any = None, stream: IO[str] | None = None
) -> Printer:
    """The printer for ``--output``, ``--query`` and ``--color``, printing to ``stream``."""
    query = None
    if args.query is not None:
        import jmespath
        from jmespath.exceptions import JMESPathError

        try:
            query = jmespath.compile(args.query)
        except JMESPathError as exc:
            msg = f"Bad value for --query {args.query}: {exc}"
            raise UsageError(msg) from None
    terminal = sys.stdout.isatty() if stream is not None else None
    return Printer(output_format(args, session), query, args.color, stream, terminal=terminal)


def open_session(args: argparse.Namespace, factory: Callable[..., Any]) -> Any:
    """A botocore or aiobotocore session for ``--profile`` (and ``--debug``)."""
    from botocore.exceptions import ProfileNotFound

    from cfinv._gateway import share_loader

    try:
        session = factory(profile=args.profile)
        session.get_scoped_config()  # fails now, not later, for an unknown profile
    except ProfileNotFound as exc:
        raise UsageError(str(exc), code="config") from None
    share_loader(session)  # one model loader for every session of the process
    return session


def client_settings(
    args: argparse.Namespace, session: Any, config_class: Callable[..., Any], **config: Any
) -> dict[str, Any]:
    """``create_client`` keyword arguments for the AWS CLI's global options."""
    import botocore

    _check_endpoint_url(args.endpoint_url)
    _check_ca_bundle(args.ca_bundle)
    if args.cli_read_timeout is not None:
        config["read_timeout"] = args.cli_read_timeout or None
    if args.cli_connect_timeout is not None:
        config["connect_timeout"] = args.cli_connect_timeout or None
    if args.no_sign_request:
        config["signature_version"] = botocore.UNSIGNED
    verify: bool | str | None = None
    if args.no_verify_ssl:
        verify = False
    elif args.ca_bundle:
        verify = args.ca_bundle
    return {
        # CloudFront is global: without a configured region, sign for us-east-1.
        "region_name": args.region or session.get_config_variable("region") or "us-east-1",
        "endpoint_url": args.endpoint_url,
        "verify": verify,
        "config": config_class(**config),
    }


def _check_endpoint_url(url: str | None) -> None:
    """``--endpoint-url`` must be an http(s) URL with a host (and a valid port)."""
    if url is None:
        return
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # out of range or not a number: ValueError
    except ValueError as exc:
        problem, port = str(exc), None
    else:
        problem = ""
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            problem = "scheme is missing" if "://" not in url else "it is not an http(s) URL"
        elif not parts.hostname or not _HOST.fullmatch(parts.hostname):
            problem = f"{parts.hostname or ''!r} is not a host name or address"
    if problem or port == 0:
        problem = problem or "the port is 0"
        msg = (
            f'Bad value for --endpoint-url "{url}": {problem}.  '
            "Must be of the form http://<hostname>/ or https://<hostname>/"
        )
        raise UsageError(msg)


#: A host name (letters, digits, hyphens, dots: what botocore accepts) or an IP address.
_HOST = re.compile(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+")


def _check_ca_bundle(path: str | None) -> None:
    """``--ca-bundle`` must name a file: said before any connection, as a configuration error."""
    if path is not None and not Path(path).is_file():
        msg = f"Bad value for --ca-bundle {path}: no such file"
        raise UsageError(msg, code="config")


def _session(args: argparse.Namespace) -> Any:
    import botocore.session

    session = open_session(args, botocore.session.Session)
    # Timestamps are printed as CloudFront sent them, as the AWS CLI does.
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=lambda value: value
    )
    return session


def _client(args: argparse.Namespace, session: Any) -> Any:
    from botocore.config import Config

    client = session.create_client("cloudfront", **client_settings(args, session, Config))
    client.meta.events.register_first("needs-retry.cloudfront", _no_retry_after_tls_failure)
    return client


def _no_retry_after_tls_failure(caught_exception: object = None, **_: Any) -> bool | None:
    """
    A certificate that failed verification fails again: answer at once.

    botocore retries its connection errors, TLS failures among them, for
    6 to 12 s; ``False`` (the first answer given) tells it not to.
    """
    from botocore.exceptions import SSLError

    return False if isinstance(caught_exception, SSLError) else None


def _input_file(args: argparse.Namespace) -> dict[str, Any]:
    """Parameters from --cli-input-json / --cli-input-yaml (never both)."""
    if args.cli_input_json and args.cli_input_yaml:
        msg = "Only one of --cli-input-json and --cli-input-yaml may be given."
        raise UsageError(msg)
    if args.cli_input_json:
        text = load_value(args.cli_input_json, "--cli-input-json")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = (
                f"Error parsing parameter '--cli-input-json': Invalid JSON: {exc}\n"
                f"JSON received: {text}"
            )
            raise UsageError(msg) from None
    elif args.cli_input_yaml:
        text = load_value(args.cli_input_yaml, "--cli-input-yaml")
        try:
            import yaml
        except ImportError:
            msg = "--cli-input-yaml needs PyYAML: pip install 'cfinv[cli]'"
            raise UsageError(msg, code="config") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            msg = f"Error parsing parameter '--cli-input-yaml': Invalid YAML: {exc}"
            raise UsageError(msg) from None
    else:
        return {}
    if not isinstance(data, dict):
        msg = f"The input must be an object of parameters, got {type(data).__name__}"
        raise UsageError(msg)
    return data


def _paths_batch(paths: list[str]) -> dict[str, Any]:
    # The AWS CLI's --paths: a reference of the epoch and a random number.
    reference = f"cli-{int(time.time())}-{random.randint(1, 1000000)}"  # noqa: S311 - as the AWS CLI
    return {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}


def _require(params: dict[str, Any], options: dict[str, str]) -> None:
    missing = [option for name, option in options.items() if name not in params]
    if missing:
        msg = f"the following arguments are required: {', '.join(missing)}"
        raise CommandLineError(msg)


def _skeleton(args: argparse.Namespace, command: AwsCommand) -> bool:
    kind = getattr(args, "generate_cli_skeleton", None)
    if kind is None:
        return False
    if kind == "output":
        # As the AWS CLI: the inputs are checked, then a sample answer is printed.
        _params(args, command)
        data = skeleton(command.shape_out, sample=True)
    else:
        data = skeleton(command.shape_in)
    if kind == "yaml-input":
        sys.stdout.write(format_yaml(data))
    else:
        write_json(data, sys.stdout)
    return True


def _params(args: argparse.Namespace, command: AwsCommand) -> dict[str, Any]:
    """The request parameters: --cli-input-json/yaml, overridden by the command line."""
    params = _input_file(args)
    for name, attribute, option in command.options:
        value = getattr(args, attribute, None)
        if value:
            params[name] = load_value(value, option)
    takes_paths = hasattr(args, "paths")  # create-invalidation's --paths, as in the AWS CLI
    if command.kind == "create":
        if args.invalidation_batch is not None:
            text = load_value(args.invalidation_batch, "--invalidation-batch")
            params["InvalidationBatch"] = parse_structure(
                text, INVALIDATION_BATCH, "--invalidation-batch"
            )
        elif takes_paths and args.paths:
            params["InvalidationBatch"] = _paths_batch(args.paths)
    # With --paths offered, a missing batch is botocore's to report, as the AWS CLI does.
    required = [n for n in command.required if not (n == "InvalidationBatch" and takes_paths)]
    _require(params, {name: _option(command, name) for name in required})
    return params


def _option(command: AwsCommand, parameter: str) -> str:
    if parameter == "InvalidationBatch":
        return "--invalidation-batch"
    return command.option(parameter)


def run_aws_command(args: argparse.Namespace) -> None:
    """Run one AWS CLI compatible command and print its result."""
    command = command_of(args)
    if _skeleton(args, command):
        return
    params = _params(args, command)
    session = _session(args)
    make_printer(args, session)  # a bad --query or output type is refused before any call
    client = _client(args, session)
    try:
        if command.kind == "wait":
            _wait(args, client, params)
            return
        with paged_stdout(args, session) as stream:
            printer = make_printer(args, session, stream)
            if command.kind == "list":
                _list(args, client, command, params, printer)
            else:
                call = getattr(client, command.method)
                printer.response(command.operation, call(**params))
    finally:
        client.close()


def _list(
    args: argparse.Namespace,
    client: Any,
    command: AwsCommand,
    params: dict[str, Any],
    printer: Printer,
) -> None:
    if args.marker is not None:
        params["Marker"] = load_value(args.marker, "--marker")
    if args.no_paginate or args.marker is not None:
        # One call: --max-items is the API's own MaxItems, as in the AWS CLI.
        if args.max_items is not None:
            params["MaxItems"] = args.max_items
        if "MaxItems" in params:
            from cfinv._gateway import max_items_param  # only this path needs the library

            params["MaxItems"] = max_items_param(client, command.operation, params["MaxItems"])
        printer.response(command.operation, getattr(client, command.method)(**params))
        return
    config: dict[str, Any] = {}
    if args.max_items is not None:
        config["MaxItems"] = args.max_items
    if args.page_size is not None:
        config["PageSize"] = args.page_size
    if args.starting_token is not None:
        config["StartingToken"] = load_value(args.starting_token, "--starting-token")
    pages = client.get_paginator(command.method).paginate(**params, PaginationConfig=config)
    printer.pages(command.operation, pages.build_full_result, _page_parts(pages))


def _page_parts(pages: Any) -> Any:
    """Each page as the AWS CLI's text output shows it: result keys, then NextToken."""
    from botocore.utils import set_value_from_jmespath

    for number, page in enumerate(pages):
        current: dict[str, Any] = dict(pages.non_aggregate_part) if number == 0 else {}
        for key in pages.result_keys:
            set_value_from_jmespath(current, key.expression, key.search(page))
        yield current
    if pages.resume_token:
        yield {"NextToken": {"NextToken": pages.resume_token}}


def _wait(args: argparse.Namespace, client: Any, params: dict[str, Any]) -> None:
    from botocore.exceptions import WaiterError

    name = args.waiter.replace("-", "_")  # botocore's waiter of the same name
    waiter = client.get_waiter(name)
    try:
        waiter.wait(**params, WaiterConfig={"Delay": args.delay, "MaxAttempts": args.max_attempts})
    except WaiterError as exc:
        raise UsageError(str(exc), code="other") from None
    logging.getLogger("cfinv").debug("waiter %s succeeded", name)
