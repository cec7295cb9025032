"""
``--debug``: every log line on stderr, with credentials taken out.

botocore logs the canonical request, the signed headers and the request
dict of each call at DEBUG level; they hold the session token
(``X-Amz-Security-Token``) and the request's signature.  The AWS CLI prints
them as they are; cfinv replaces them with ``<redacted>`` in every line it
prints, tracebacks included, however the value is quoted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["REDACTED", "RedactingFormatter", "debug_logging", "debug_logging_active", "redact"]

REDACTED = "<redacted>"

# A header or query parameter holding a secret, then its value, however quoted:
#   x-amz-security-token:IQo...          (canonical request)
#   'X-Amz-Security-Token': b'IQo...'    (the headers dict)
#   X-Amz-Security-Token=IQo%2B...       (a presigned query)
_SECRET_FIELDS = re.compile(
    r"""(?P<name>x-amz-security-token|x-amz-signature|aws_session_token|aws_secret_access_key"""
    r"""|SessionToken|SecretAccessKey)"""
    r"""(?P<sep>['"]?\s*[:=]\s*b?['"]?)"""
    r"""(?P<value>[^'"\s,;&}\]]+)""",
    re.IGNORECASE,
)
# Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=<hex>
# and botocore's own line "Signature:" with the hex on the next line.
_SIGNATURE = re.compile(r"(Signature(?:=|:\s*))([0-9a-fA-F]{16,})")
# The environment's secrets, wherever they appear (an error message, say).
_SECRET_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_SECRET_ACCESS_KEY")
_SHORTEST_SECRET = 8  # shorter values would match ordinary text


def redact(text: str) -> str:
    """``text`` with session tokens, secret keys and signatures replaced by ``<redacted>``."""
    for variable in _SECRET_VARIABLES:
        secret = os.environ.get(variable, "")
        if len(secret) >= _SHORTEST_SECRET:
            text = text.replace(secret, REDACTED)
    text = _SECRET_FIELDS.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    return _SIGNATURE.sub(rf"\g<1>{REDACTED}", text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (message and traceback) goes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, secrets removed."""
        return redact(super().format(record))


_HANDLER_NAME = "cfinv --debug"


def debug_logging_active() -> bool:
    """Whether ``--debug`` logging is on: every record reaches stderr already."""
    return any(h.get_name() == _HANDLER_NAME for h in logging.getLogger().handlers)


@contextlib.contextmanager
def debug_logging() -> Iterator[None]:
    """
    While the command runs: everything at DEBUG on stderr, once per line, secrets removed.

    One handler, on the root logger: botocore's and cfinv's records reach it
    once each (botocore's own ``set_debug_logger`` would add a second).
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s %(message)s"))
    handler.set_name(_HANDLER_NAME)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
