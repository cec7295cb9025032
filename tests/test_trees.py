"""Where a site's tree comes from: build directories, listing files, S3 (moto's server), lists."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aiobotocore.session import get_session
from aiohttp import web

from cfinv.trees import VCS_DIRECTORIES, TreeSourceError, load_tree, read_tree
from tests.conftest import SESSION, client_config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


# --- build directories ---------------------------------------------------------------


def files(root: Path, *names: str) -> None:
    """Create each file (and its directories) below ``root``."""
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_a_directory_gives_every_file_as_a_url_path(tmp_path: Path) -> None:
    """Nested files, spaces, non-ASCII names and dotfiles are kept raw; empty dirs add nothing."""
    files(
        tmp_path,
        "index.html",
        "a/b/c.html",
        "a/with space.html",
        "café/naïve.html",
        "日本/語.txt",
        ".well-known/security.txt",
        "a#b?.html",
    )
    (tmp_path / "empty" / "deeper").mkdir(parents=True)

    expected = (
        "/.well-known/security.txt",
        "/a#b?.html",
        "/a/b/c.html",
        "/a/with space.html",
        "/café/naïve.html",
        "/index.html",
        "/日本/語.txt",
    )
    assert expected == read_tree(tmp_path)
    assert expected == read_tree(str(tmp_path))


def test_version_control_directories_are_left_out_unless_asked(tmp_path: Path) -> None:
    """.git, .hg, .svn and .bzr are skipped by default; ``skip_directories=()`` keeps them."""
    files(tmp_path, "index.html", ".git/HEAD", ".hg/store/x", "a/.svn/entries", ".gitignore")

    assert frozenset({".git", ".hg", ".svn", ".bzr"}) == VCS_DIRECTORIES
    assert ("/.gitignore", "/index.html") == read_tree(tmp_path)
    assert ("/.git/HEAD", "/.gitignore", "/.hg/store/x", "/a/.svn/entries", "/index.html") == (
        read_tree(tmp_path, skip_directories=())
    )


def test_links_out_of_the_tree_broken_links_and_cycles_are_skipped(tmp_path: Path) -> None:
    """Only links whose target lies inside the tree are followed, and never back up."""
    outside = tmp_path / "outside"
    files(outside, "secret.txt", "dir/inner.txt")
    site = tmp_path / "site"
    files(site, "index.html", "v2/app.js")
    (site / "out-file").symlink_to(outside / "secret.txt")
    (site / "out-dir").symlink_to(outside / "dir", target_is_directory=True)
    (site / "dangling").symlink_to(site / "nowhere")
    (site / "loop").symlink_to(site / "loop")
    (site / "v2" / "up").symlink_to(site, target_is_directory=True)
    (site / "latest").symlink_to(site / "v2", target_is_directory=True)
    (site / "home.html").symlink_to("index.html")

    expected = ("/home.html", "/index.html", "/latest/app.js", "/v2/app.js")
    assert expected == read_tree(site)


def test_a_link_to_the_root_directory_is_walked_from_the_root(tmp_path: Path) -> None:
    """A tree given as a link to the build directory is the build directory's tree."""
    files(tmp_path / "build", "a.html")
    (tmp_path / "current").symlink_to(tmp_path / "build", target_is_directory=True)

    assert ("/a.html",) == read_tree(tmp_path / "current")


def test_only_files_and_directories_count(tmp_path: Path) -> None:
    """A named pipe in the build directory is nothing a site serves."""
    files(tmp_path, "a.html")
    os.mkfifo(tmp_path / "pipe")

    assert ("/a.html",) == read_tree(tmp_path)


def test_a_file_name_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    """Such a name cannot be a URL path or an S3 key: the error shows its bytes."""
    files(tmp_path, "a.html")
    bad = os.fsencode(tmp_path) + b"/caf\xe9.html"
    with open(bad, "wb"):  # noqa: PTH123 - pathlib takes no bytes path
        pass

    with pytest.raises(TreeSourceError, match=r"caf\\xe9\.html'? is not UTF-8") as caught:
        read_tree(tmp_path)
    assert str(tmp_path) == caught.value.source


def test_an_empty_tree_is_refused_unless_allowed(tmp_path: Path) -> None:
    """With no tree every wildcard looks free, so an empty source is an error by default."""
    (tmp_path / "only-dirs").mkdir()

    with pytest.raises(TreeSourceError, match="is empty") as caught:
        read_tree(tmp_path)
    assert str(tmp_path) in str(caught.value)
    assert () == read_tree(tmp_path, allow_empty=True)
    assert () == read_tree([" ", ""], allow_empty=True)


# --- listing files -------------------------------------------------------------------------


def test_a_listing_file_gives_one_path_per_line(tmp_path: Path) -> None:
    """CRLF, CR, a BOM, blank lines and whitespace are tolerated; a missing slash is added."""
    listing = tmp_path / "tree.txt"
    listing.write_bytes(
        b"\xef\xbb\xbf/index.html\r\n"
        b"\r\n"
        b"  a/b.html  \r\n"
        b"\t/caf\xc3\xa9/x y.html\n"
        b"/old-mac\r"
        b"/#not-a-comment\n"
        b"/index.html\n"
        b"   \n"
    )

    expected = ("/#not-a-comment", "/a/b.html", "/café/x y.html", "/index.html", "/old-mac")
    assert expected == read_tree(listing)


def test_a_listing_file_that_is_not_utf8_names_the_file_byte_and_line(tmp_path: Path) -> None:
    """The error says where the first undecodable byte is, counting a BOM."""
    listing = tmp_path / "tree.txt"
    listing.write_bytes(b"\xef\xbb\xbf/a\n/b\xe9\n")

    with pytest.raises(TreeSourceError) as caught:
        read_tree(listing)
    message = str(caught.value)
    assert str(listing) in message
    assert "byte 8 (line 2)" in message
    assert r"b'\xe9'" in message
    assert str(listing) == caught.value.source


def test_a_listing_file_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    """`find -print0` output is not a listing: the error says so instead of planning garbage."""
    listing = tmp_path / "tree.txt"
    listing.write_bytes(b"./a.html\0./b.html\0")

    with pytest.raises(TreeSourceError, match=r"NUL at byte 8 \(line 1\).*-print0"):
        read_tree(listing)


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    """Neither a directory nor a file: the error names what was given."""
    missing = tmp_path / "no-such-build"

    with pytest.raises(TreeSourceError, match="no-such-build' does not exist") as caught:
        read_tree(missing)
    assert str(missing) == caught.value.source


@pytest.mark.parametrize("source", ["https://example.com/tree.txt", "file:///srv/site"])
def test_an_unsupported_scheme_is_named(source: str) -> None:
    """Only s3:// URLs are understood; anything else with a scheme is refused by name."""
    with pytest.raises(TreeSourceError, match="unsupported tree source") as caught:
        read_tree(source)
    assert source in str(caught.value)
    assert source == caught.value.source


def test_read_tree_sends_s3_sources_to_load_tree() -> None:
    """The synchronous helper reads local sources only."""
    with pytest.raises(TreeSourceError, match=r"use `await load_tree\(\)`"):
        read_tree("s3://bucket/site")


# --- iterables ----------------------------------------------------------------------------


def test_an_iterable_is_normalised_like_a_listing_file() -> None:
    """Whitespace, blank items and missing slashes are handled; duplicates go; order is sorted."""
    given = iter(["b.html", " /a.html ", "", "/b.html", "/x/ü.html"])

    assert ("/a.html", "/b.html", "/x/ü.html") == read_tree(given)


def test_an_iterable_of_something_else_is_a_type_error() -> None:
    """A tree holds strings: bytes or numbers are a programming error, named in the message."""
    with pytest.raises(TypeError, match=r"b'/a\.html'"):
        read_tree(["/ok.html", b"/a.html"])  # type: ignore[list-item]


async def test_load_tree_reads_local_sources_too(tmp_path: Path) -> None:
    """The async entry point gives the same answers for directories, files and lists."""
    files(tmp_path / "site", "a.html", "b/c.html")
    listing = tmp_path / "tree.txt"
    listing.write_text("a.html\n/b/c.html\n", encoding="utf-8")

    expected = ("/a.html", "/b/c.html")
    assert expected == await load_tree(tmp_path / "site")
    assert expected == await load_tree(str(listing))
    assert expected == await load_tree(["/b/c.html", "a.html"])
    with pytest.raises(TreeSourceError, match="does not exist"):
        await load_tree(tmp_path / "missing")


# --- S3, against moto's server -------------------------------------------------------------


@pytest.fixture
async def s3(moto_endpoint: str) -> AsyncIterator[Any]:
    """An S3 client of moto's server, botocore retries off."""
    async with SESSION.create_client(
        "s3", endpoint_url=moto_endpoint, region_name="us-east-1", config=client_config()
    ) as client:
        yield client


async def bucket_with(s3: Any, *keys: str) -> str:
    """A new bucket holding an empty object under each key; its name."""
    bucket = f"tree-{uuid.uuid4().hex[:16]}"  # moto's state is per process
    await s3.create_bucket(Bucket=bucket)
    await asyncio.gather(*(s3.put_object(Bucket=bucket, Key=key, Body=b"") for key in keys))
    return bucket


def listing_requests(s3: Any) -> list[dict[str, Any]]:
    """The parameters of every ListObjectsV2 call ``s3`` makes from now on."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    s3.meta.events.register("before-parameter-build.s3.ListObjectsV2", record)
    return seen


SITE_KEYS = (
    "site/",  # a folder marker, as the S3 console creates them
    "site/index.html",
    "site/a/",
    "site/a/b.html",
    "site/a/with space.html",
    "site/café/naïve.html",
    "site/a+b%20c.html",
    *(f"site/posts/{n:02}.html" for n in range(20)),
    "site-old/index.html",  # shares the prefix's letters, not its folder
    "other/x.html",
    "root.html",
)


async def test_s3_prefix_lists_the_keys_under_it_across_pages(s3: Any) -> None:
    """Every key under site/ becomes /key-without-prefix; markers and neighbours stay out."""
    bucket = await bucket_with(s3, *SITE_KEYS)
    requests = listing_requests(s3)

    tree = await load_tree(f"s3://{bucket}/site", client=s3, page_size=4)

    expected = (
        "/a+b%20c.html",
        "/a/b.html",
        "/a/with space.html",
        "/café/naïve.html",
        "/index.html",
        *(f"/posts/{n:02}.html" for n in range(20)),
    )
    assert expected == tree
    # 27 keys under site/ (markers included), 4 a page: 7 requests, continued by token.
    assert 7 == len(requests)
    assert all(r["Prefix"] == "site/" and r["MaxKeys"] == 4 for r in requests)
    assert "ContinuationToken" not in requests[0]
    assert all("ContinuationToken" in r for r in requests[1:])
    assert tree == await load_tree(f"s3://{bucket}/site/", client=s3, page_size=4)


async def test_s3_without_a_prefix_lists_the_whole_bucket(s3: Any) -> None:
    """s3://bucket and s3://bucket/ list every key, a thousand a page by default."""
    bucket = await bucket_with(s3, "index.html", "a/", "a/b.html", "site-old/index.html")
    requests = listing_requests(s3)

    expected = ("/a/b.html", "/index.html", "/site-old/index.html")
    assert expected == await load_tree(f"s3://{bucket}", client=s3)
    assert expected == await load_tree(f"s3://{bucket}/", client=s3)
    assert [{"Bucket": bucket, "MaxKeys": 1000}] * 2 == [
        {k: r[k] for k in ("Bucket", "MaxKeys")} for r in requests
    ]
    assert all("Prefix" not in r for r in requests)


async def test_s3_client_comes_from_the_environment(
    moto_endpoint: str, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no client or session, cfinv makes one that honours AWS_ENDPOINT_URL_S3."""
    bucket = await bucket_with(s3, "site/a.html", "site/b/c.html")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)

    assert ("/a.html", "/b/c.html") == await load_tree(f"s3://{bucket}/site")
    assert ("/a.html", "/b/c.html") == await load_tree(f"s3://{bucket}/site", session=get_session())


async def test_s3_missing_bucket_is_a_typed_error_naming_it(s3: Any) -> None:
    """NoSuchBucket becomes a TreeSourceError with S3's code, the bucket and the prefix."""
    bucket = f"tree-missing-{uuid.uuid4().hex[:8]}"

    with pytest.raises(TreeSourceError) as caught:
        await load_tree(f"s3://{bucket}/site", client=s3)
    assert "NoSuchBucket" == caught.value.code
    assert f"s3://{bucket}/site/" == caught.value.source
    assert f"cannot list s3://{bucket}/site/: NoSuchBucket" in str(caught.value)
    assert "Check the bucket name" in str(caught.value)


async def test_s3_empty_prefix_is_refused_unless_allowed(s3: Any) -> None:
    """A mistyped prefix lists nothing: an error, not a tree that makes every wildcard free."""
    bucket = await bucket_with(s3, "site/index.html", "sitee/")

    with pytest.raises(TreeSourceError, match=f"tree from s3://{bucket}/sitee/ is empty"):
        await load_tree(f"s3://{bucket}/sitee", client=s3)
    assert () == await load_tree(f"s3://{bucket}/sitee", client=s3, allow_empty=True)


async def test_s3_without_credentials_is_a_typed_error(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials anywhere: the error names the bucket and says how to configure them."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(TreeSourceError, match="Configure AWS credentials") as caught:
        await load_tree("s3://some-bucket/site", endpoint_url=moto_endpoint, session=get_session())
    assert "cannot list s3://some-bucket/site/: Unable to locate credentials" in str(caught.value)
    assert caught.value.code is None


@pytest.fixture
async def refusing_s3() -> AsyncIterator[str]:
    """A server that answers every request as S3 does when ListBucket is not allowed."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        "<Message>Access Denied</Message><RequestId>R1</RequestId><HostId>H1</HostId></Error>"
    )

    async def refuse(request: web.Request) -> web.Response:
        del request
        return web.Response(status=403, text=body, content_type="application/xml")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_s3_access_denied_names_the_permission(refusing_s3: str) -> None:
    """403 AccessDenied says which permission on which bucket the credentials lack."""
    with pytest.raises(TreeSourceError) as caught:
        await load_tree("s3://locked-bucket/docs", endpoint_url=refusing_s3)
    assert "AccessDenied" == caught.value.code
    assert (
        "cannot list s3://locked-bucket/docs/: AccessDenied: Access Denied. "
        "The credentials need s3:ListBucket on arn:aws:s3:::locked-bucket."
    ) == str(caught.value)


async def test_s3_unreachable_endpoint_is_a_typed_error() -> None:
    """A refused connection is reported against the S3 source, not as a bare botocore error."""
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{bound.getsockname()[1]}"
        async with SESSION.create_client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", config=client_config()
        ) as s3:
            with pytest.raises(TreeSourceError, match="cannot list s3://bucket-x/: Endpoint"):
                await load_tree("s3://bucket-x", client=s3)


@pytest.mark.parametrize("source", ["s3://", "s3:///site"])
async def test_s3_url_without_a_bucket_is_named(source: str) -> None:
    """An s3:// URL must name a bucket."""
    with pytest.raises(TreeSourceError, match="names no bucket") as caught:
        await load_tree(source)
    assert source == caught.value.source


@pytest.mark.parametrize("page_size", [0, 1001])
async def test_page_size_is_what_s3_accepts(page_size: int) -> None:
    """ListObjectsV2 returns 1 to 1,000 keys a page; anything else is refused before a request."""
    with pytest.raises(ValueError, match=f"between 1 and 1000, got {page_size}"):
        await load_tree("s3://bucket-x", page_size=page_size)
