"""
Where a site's tree comes from: every URL path the site serves after the deploy.

The planner needs the tree to count collateral: the unchanged paths a
wildcard would invalidate too.  `load_tree` reads it from one of four sources
and returns the paths as raw URL paths (``"/a/b c.html"``, not percent-encoded;
the planner normalises), sorted and without duplicates:

* **a local build directory**: every regular file below it, as
  ``/relative/path`` with ``/`` separators;
* **a listing file**: one path per line, in UTF-8;
* **``s3://bucket/prefix``**: the keys under the prefix, listed with
  ListObjectsV2 (paginated) through aiobotocore;
* **an iterable of strings**: the paths themselves.

`read_tree` does the same for the local sources without an event loop.

An empty tree is refused unless ``allow_empty=True``: with no tree, every
wildcard looks free (it seems to invalidate nothing else), so an empty tree
from a mistyped prefix would make the planner choose ``/*`` for any change.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from cfinv.errors import CfinvError, shortened

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection, Iterator

    from aiobotocore.session import AioSession

__all__ = [
    "S3_PAGE_SIZE",
    "VCS_DIRECTORIES",
    "TreeSource",
    "TreeSourceError",
    "load_tree",
    "read_tree",
]

#: Where a tree comes from: a directory or listing file (a path), ``s3://bucket/prefix``
#: (a string), or the paths themselves (any other iterable of strings).
TreeSource: TypeAlias = str | os.PathLike[str] | Iterable[str]

#: Directories a build directory's walk leaves out: version-control metadata,
#: which no deploy uploads and which would swell the tree by thousands of objects.
VCS_DIRECTORIES: frozenset[str] = frozenset({".git", ".hg", ".svn", ".bzr"})

#: Keys per ListObjectsV2 page: S3's maximum.
S3_PAGE_SIZE = 1000

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_S3_HINTS = {
    "NoSuchBucket": "Check the bucket name and the account the credentials belong to.",
    "AccessDenied": "The credentials need s3:ListBucket on arn:aws:s3:::{bucket}.",
    "AllAccessDisabled": "All access to this bucket has been disabled.",
    "InvalidAccessKeyId": "Check AWS_ACCESS_KEY_ID or the profile in use.",
    "SignatureDoesNotMatch": "Check AWS_SECRET_ACCESS_KEY or the profile in use, and the clock.",
}


class TreeSourceError(CfinvError):
    """
    The tree could not be read: a missing path, a bad listing file, a failed S3 listing.

    Attributes:
        source: The source as given (a path, or ``s3://bucket/prefix/``).
        code: S3's error code (``NoSuchBucket``, ``AccessDenied``, ...) when
            S3 answered with an error; ``None`` otherwise.
    """

    def __init__(self, message: str, *, source: str, code: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.code = code


# --- the entry points -----------------------------------------------------------------


async def load_tree(
    source: TreeSource,
    *,
    session: AioSession | None = None,
    client: Any = None,  # noqa: ANN401 - an aiobotocore S3 client (no stubs in the stack)
    endpoint_url: str | None = None,
    region_name: str | None = None,
    page_size: int = S3_PAGE_SIZE,
    skip_directories: Collection[str] = VCS_DIRECTORIES,
    allow_empty: bool = False,
) -> tuple[str, ...]:
    """
    Every URL path the site serves, from a build directory, a listing file, S3 or a list.

    A string starting with ``s3://`` is listed from S3; any other string or
    path names a local directory (walked) or file (read as a listing); any
    other iterable holds the paths themselves.  Local sources are read in a
    worker thread, so a large build directory does not stall the event loop.

    **A directory**: every regular file below it becomes ``/relative/path``.
    Symbolic links are followed when their target lies inside the directory
    (as ``aws s3 sync`` uploads them); links that lead outside it, broken
    links and links back to a directory above them (a cycle) are skipped, as
    are directories named in ``skip_directories`` and anything that is neither
    a file nor a directory (sockets, pipes, devices).  A file name that is not
    valid UTF-8 cannot be a URL path or an S3 key and raises.

    **A listing file**: one path per line (LF, CRLF or CR), in UTF-8, with an
    optional byte order mark; whitespace around a path and blank lines are
    ignored, and a missing leading ``/`` is added.  There are no comments: a
    ``#`` is part of a path.

    **``s3://bucket/prefix``**: the keys under ``prefix/`` (a trailing ``/`` is
    implied, so ``s3://b/site`` does not list ``site-old/``), each as
    ``/key-without-prefix``; ``s3://bucket`` lists the whole bucket.  Keys
    ending in ``/`` (folder markers of the S3 console) are skipped.

    **An iterable of strings**: each one as a line of a listing file.

    Args:
        source: Where the tree comes from (see above).
        session: The aiobotocore session to create the S3 client from
            (default: a new one with the standard credential chain; ``region``
            and ``AWS_ENDPOINT_URL_S3`` are honoured as botocore does).
        client: An open aiobotocore S3 client to list with; used as is and
            not closed.  Takes precedence over ``session``.
        endpoint_url: Where to send S3 requests (default: botocore's choice).
        region_name: The region of the S3 client (default: the session's,
            else ``us-east-1``; botocore follows S3's redirect to the bucket's region).
        page_size: Keys per ListObjectsV2 request (1 to 1,000).
        skip_directories: Names of directories a directory walk leaves out
            (default: `VCS_DIRECTORIES`); ``()`` to keep everything.
        allow_empty: Return ``()`` for a source with no paths instead of raising.

    Returns:
        The served paths, sorted and without duplicates.

    Raises:
        TreeSourceError: The source does not exist, has an unsupported scheme,
            cannot be read, is not UTF-8, holds no paths (unless
            ``allow_empty``), or S3 refused or failed the listing
            (``code`` says how S3 answered).
        TypeError: An iterable source holds something other than strings.
        ValueError: ``page_size`` is not between 1 and 1,000.
    """
    location = _s3_location(source)
    if location is None:
        if isinstance(source, (str, os.PathLike)):
            return await asyncio.to_thread(
                read_tree, source, skip_directories=skip_directories, allow_empty=allow_empty
            )
        return read_tree(source, allow_empty=allow_empty)
    if not 1 <= page_size <= S3_PAGE_SIZE:
        msg = f"page_size must be between 1 and {S3_PAGE_SIZE}, got {page_size!r}"
        raise ValueError(msg)
    bucket, prefix = location
    shown = f"s3://{bucket}/{prefix}"
    try:
        async with _s3_client(session, client, endpoint_url, region_name) as s3:
            paths = await _list_keys(s3, bucket, prefix, page_size)
    except Exception as exc:
        error = _s3_error(exc, shown, bucket)
        if error is None:
            raise
        raise error from exc
    return _finished(paths, shown, allow_empty=allow_empty)


def read_tree(
    source: TreeSource,
    *,
    skip_directories: Collection[str] = VCS_DIRECTORIES,
    allow_empty: bool = False,
) -> tuple[str, ...]:
    """
    Every URL path the site serves, from a local source, without an event loop.

    The same as `load_tree` for a directory, a listing file or an iterable
    of strings; an ``s3://`` source needs `load_tree`.

    Args:
        source: A directory, a listing file, or the paths themselves.
        skip_directories: Names of directories a directory walk leaves out.
        allow_empty: Return ``()`` for a source with no paths instead of raising.

    Returns:
        The served paths, sorted and without duplicates.

    Raises:
        TreeSourceError: The source does not exist, is an ``s3://`` (or other)
            URL, cannot be read, is not UTF-8, or holds no paths (unless ``allow_empty``).
        TypeError: An iterable source holds something other than strings.
    """
    if isinstance(source, str):
        scheme = _SCHEME.match(source)
        if scheme is not None:
            if scheme.group(1).casefold() == "s3":
                msg = f"{shortened(source)} is listed over the network: use `await load_tree()`"
            else:
                msg = (
                    f"unsupported tree source {shortened(source)}: give a local directory, "
                    "a listing file or s3://bucket/prefix"
                )
            raise TreeSourceError(msg, source=source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        shown = str(path)
        if path.is_dir():
            paths = list(_walk(path, frozenset(skip_directories)))
        elif path.exists():  # a file, or a pipe: --tree <(aws s3 ls ...)
            paths = list(_listed(_read_text(path), shown))
        else:
            msg = (
                f"tree source {shown!r} does not exist: give a build directory, "
                "a listing file (one path per line) or s3://bucket/prefix"
            )
            raise TreeSourceError(msg, source=shown)
    else:
        shown = "the given paths"
        paths = list(_listed(source, shown))
    return _finished(paths, shown, allow_empty=allow_empty)


# --- local sources -----------------------------------------------------------------


def _walk(root: Path, skip: frozenset[str]) -> Iterator[str]:
    """``/relative/path`` of every regular file below ``root`` (see `load_tree`)."""
    real_root = root.resolve()
    # (directory as reached, its URL path, its real path, real directories from the root to it)
    pending = [(root, "", real_root, frozenset({real_root}))]
    while pending:
        directory, url, real, above = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            msg = f"cannot read directory {str(directory)!r}: {exc.strerror or exc}"
            raise TreeSourceError(msg, source=str(root)) from exc
        for entry in entries:
            taken = _taken(entry, real, real_root)
            if taken is None:
                continue
            is_dir, real_child = taken
            child = f"{url}/{_utf8_name(entry.name, entry.path, root)}"
            if not is_dir:
                yield child
            elif entry.name not in skip and real_child not in above:  # a link up is a cycle
                pending.append((Path(entry.path), child, real_child, above | {real_child}))


def _taken(entry: os.DirEntry[str], real_dir: Path, real_root: Path) -> tuple[bool, Path] | None:
    """(is a directory, its real path) for an entry the walk takes; ``None`` to skip it."""
    follow = entry.is_symlink()
    if follow:
        try:
            real = Path(entry.path).resolve()
        except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13)
            return None
        if not real.is_relative_to(real_root):
            return None  # nothing from outside the tree
    else:
        real = real_dir / entry.name
    if entry.is_dir(follow_symlinks=follow):
        return True, real
    if entry.is_file(follow_symlinks=follow):
        return False, real
    return None  # a dangling link, a socket, a pipe, a device: nothing a site serves


def _utf8_name(name: str, path: str, root: Path) -> str:
    """``name``, or an error if it is not UTF-8 (undecodable bytes arrive as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        msg = (
            f"file name {os.fsencode(path)!r} is not UTF-8, so it cannot be a URL path "
            "or an S3 key: rename it"
        )
        raise TreeSourceError(msg, source=str(root)) from exc
    return name


def _read_text(path: Path) -> str:
    """The listing file's text: UTF-8, an optional BOM, no NUL."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read listing file {shown!r}: {exc.strerror or exc}"
        raise TreeSourceError(msg, source=shown) from exc
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        msg = (
            f"listing file {shown!r} is not UTF-8: byte {offset} (line {line}) is "
            f"{data[offset : offset + 1]!r}; save it as UTF-8, one path per line"
        )
        raise TreeSourceError(msg, source=shown) from exc
    nul = data.find(b"\0", start)
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        msg = (
            f"listing file {shown!r} holds a NUL at byte {nul} (line {line}): one path "
            "per line is expected, not binary data or `find -print0` output"
        )
        raise TreeSourceError(msg, source=shown)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _listed(lines: str | Iterable[str], shown: str) -> Iterator[str]:
    """The paths of a listing: stripped, blank ones dropped, a leading ``/`` added."""
    items: Iterable[object] = lines.split("\n") if isinstance(lines, str) else lines
    for item in items:
        if not isinstance(item, str):
            msg = f"a tree is made of strings; {shown} hold {shortened(item)}"
            raise TypeError(msg)
        path = item.strip()
        if path:
            yield path if path.startswith("/") else f"/{path}"


def _finished(paths: Iterable[str], shown: str, *, allow_empty: bool) -> tuple[str, ...]:
    tree = tuple(sorted(set(paths)))
    if not tree and not allow_empty:
        msg = (
            f"the tree from {shown} is empty: with no tree every wildcard looks free; "
            "check the source, or pass allow_empty=True if the site really serves nothing"
        )
        raise TreeSourceError(msg, source=shown)
    return tree


# --- S3 ------------------------------------------------------------------------------------


def _s3_location(source: TreeSource) -> tuple[str, str] | None:
    """(bucket, prefix ending in ``/`` or empty) of an ``s3://`` source, else ``None``."""
    if not isinstance(source, str) or source[:5].casefold() != "s3://":
        return None
    bucket, _, prefix = source[5:].partition("/")
    if not bucket:
        msg = f"{shortened(source)} names no bucket: write s3://bucket or s3://bucket/prefix"
        raise TreeSourceError(msg, source=source)
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # the prefix is a folder: s3://b/site must not list site-old/
    return bucket, prefix


@contextlib.asynccontextmanager
async def _s3_client(
    session: AioSession | None,
    client: Any,  # noqa: ANN401 - an aiobotocore S3 client
    endpoint_url: str | None,
    region_name: str | None,
) -> AsyncIterator[Any]:
    """The caller's client as is, or a new one from the session (closed on exit)."""
    if client is not None:
        yield client
        return
    from aiobotocore.config import AioConfig

    from cfinv._gateway import CONNECT_TIMEOUT, READ_TIMEOUT, share_loader

    if session is None:
        from aiobotocore.session import get_session

        session = share_loader(get_session())
    region = region_name or session.get_config_variable("region") or "us-east-1"
    # cfinv's retry policy covers CloudFront; a listing is a plain read, so
    # botocore's standard retries (3 attempts) serve it.
    config = AioConfig(
        retries={"mode": "standard"}, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT
    )
    async with session.create_client(
        "s3", region_name=region, endpoint_url=endpoint_url, config=config
    ) as created:
        yield created


async def _list_keys(
    s3: Any,  # noqa: ANN401 - an aiobotocore S3 client
    bucket: str,
    prefix: str,
    page_size: int,
) -> list[str]:
    """``/key-without-prefix`` of every key under the prefix, folder markers left out."""
    params: dict[str, Any] = {"Bucket": bucket, "PaginationConfig": {"PageSize": page_size}}
    if prefix:
        params["Prefix"] = prefix
    paths: list[str] = []
    async for page in s3.get_paginator("list_objects_v2").paginate(**params):
        for item in page.get("Contents") or ():
            key: str = item["Key"]
            if not key.endswith("/"):
                paths.append(f"/{key[len(prefix) :]}")
    return paths


def _s3_error(exc: Exception, shown: str, bucket: str) -> TreeSourceError | None:
    """
    The `TreeSourceError` for a failed listing, or ``None`` for an error that is not S3's.

    Like `cfinv.errors.map_client_error` for CloudFront, this is the one place
    that looks inside botocore's errors about S3.
    """
    from botocore import exceptions as bce

    if isinstance(exc, bce.ClientError):
        response: dict[str, Any] = dict(exc.response)
        error = response.get("Error") or {}
        code = str(error.get("Code") or "")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        said = str(error.get("Message") or f"HTTP {status}")
        hint = _S3_HINTS.get(code, "").format(bucket=bucket)
        said = f"{said.rstrip('.')}. {hint}" if hint else said
        msg = f"cannot list {shown}: {code or 'error'}: {said}"
        return TreeSourceError(msg, source=shown, code=code or None)
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        msg = (
            f"cannot list {shown}: {str(exc).rstrip('.')}. Configure AWS credentials "
            "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role), "
            "or give the tree as a build directory or listing file"
        )
        return TreeSourceError(msg, source=shown)
    if isinstance(exc, (bce.BotoCoreError, OSError, TimeoutError)) or _is_aiohttp_error(exc):
        msg = f"cannot list {shown}: {type(exc).__name__}: {exc}"
        return TreeSourceError(msg, source=shown)
    return None


def _is_aiohttp_error(exc: Exception) -> bool:
    import aiohttp  # deferred, like botocore

    return isinstance(exc, aiohttp.ClientError)
