"""Specs for the path planner: normalisation, validation, coverage and chunking."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfinv import (
    InvalidPathError,
    Limits,
    Paths,
    covers,
    normalize_path,
    path_problem,
    plan_paths,
)

if TYPE_CHECKING:
    import random

UNSAFE = ' <>"#%{}|\\^~[]`'


# --- normalize_path: concrete cases from cloudfront.md --------------------------


@pytest.mark.parametrize(
    ("given_path", "expected"),
    [
        ("/index.html", "/index.html"),
        ("index.html", "/index.html"),
        ("/my file.html", "/my%20file.html"),
        ("/~user/home", "/%7Euser/home"),
        ("/café.html", "/caf%C3%A9.html"),
        ("/日本", "/%E6%97%A5%E6%9C%AC"),
        ("/a#b", "/a%23b"),
        ("/images/a.jpg?size=1", "/images/a.jpg?size=1"),
        ("/images/a.jpg?size=big size", "/images/a.jpg?size=big%20size"),
        ("/my%20file.html", "/my%20file.html"),
        ("/lower%c3%a9", "/lower%c3%a9"),
        ("/100%", "/100%25"),
        ("/50%off", "/50%25off"),
        ("/images/*", "/images/*"),
        ("/images/image*", "/images/image*"),
        ("/dir/file.*", "/dir/file.*"),
        ("/*", "/*"),
        ("*", "/*"),
        ("/a b/*", "/a%20b/*"),
        ("/tab\there", "/tab%09here"),
        ("/del\x7f", "/del%7F"),
        ("/{x}|[y]^`z`\\", "/%7Bx%7D%7C%5By%5D%5E%60z%60%5C"),
        ('/"q"<a>', "/%22q%22%3Ca%3E"),
        ("/a'b(c)!$&+,;=:@", "/a'b(c)!$&+,;=:@"),
        ("#product-42", "#product-42"),
    ],
)
def test_normalize_path_cases(given_path: str, expected: str) -> None:
    """Each documented rule of cloudfront.md, one case at a time."""
    assert expected == normalize_path(given_path)


def test_star_slash_question_are_never_encoded() -> None:
    """Over-encoding silently invalidates nothing, so '*', '/' and '?' stay literal."""
    normalized = normalize_path("/a b/c?d=e f*")
    assert normalized == "/a%20b/c?d=e%20f*"
    assert "%2A" not in normalized
    assert "%2F" not in normalized
    assert "%3F" not in normalized


def test_exactly_the_unsafe_set_is_encoded() -> None:
    """Of all printable ASCII, only RFC 1738's unsafe characters get encoded."""
    for ch in map(chr, range(0x21, 0x7F)):
        if ch == "*":
            continue
        normalized = normalize_path(f"/x{ch}y")
        if ch in UNSAFE:
            assert normalized == f"/x%{ord(ch):02X}y", ch
        else:
            assert normalized == f"/x{ch}y", ch


@pytest.mark.parametrize(
    ("bad", "reason_part"),
    [
        ("", "empty or blank"),
        ("   ", "empty or blank"),
        ("/a*b", "'*' may only be the last"),
        ("/*/index.html", "'*' may only be the last"),
        ("#", "needs a name"),
        ("#a,b", "without commas"),
        ("#a b", "printable ASCII"),
        ("#tag*", "cannot contain the '*'"),
        ("#" + "t" * 257, "at most 256"),
        ("/" + "a" * 4000, "at most 4000"),
        ("/" + "é" * 700, "after URL-encoding"),
        ("/bad\udc80", "cannot be encoded as UTF-8"),
    ],
)
def test_invalid_paths_raise_with_the_path_and_reason(bad: str, reason_part: str) -> None:
    """A clear typed error names the offending path and says what is wrong."""
    with pytest.raises(InvalidPathError) as info:
        normalize_path(bad)
    assert info.value.paths == (bad,)
    assert reason_part in info.value.problems[0].reason
    assert isinstance(info.value, ValueError)


def test_path_length_limit_is_configurable() -> None:
    """The length limit comes from Limits, checked after encoding."""
    assert normalize_path("/abcd", limits=Limits(path_length=5)) == "/abcd"
    with pytest.raises(InvalidPathError):
        normalize_path("/a b", limits=Limits(path_length=5))


def test_non_string_is_a_type_error_naming_it() -> None:
    """A non-string path is a programming error, reported with its value."""
    with pytest.raises(TypeError, match="42"):
        normalize_path(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got None \(NoneType\)"):
        normalize_path(None)  # type: ignore[arg-type]


def test_path_problem_checks_paths_as_sent() -> None:
    """path_problem() is the emulator's rule: a path must already be normalised."""
    assert path_problem("/ok/path.html") is None
    assert path_problem("/ok/*") is None
    assert path_problem("#tag") is None
    assert path_problem("/caf%C3%A9") is None
    assert path_problem("no-slash") == "must start with '/'"
    assert "' '" in (path_problem("/a b") or "")
    assert "'é'" in (path_problem("/café") or "")
    assert "'*' may only be the last" in (path_problem("/a*/b") or "")


# --- covers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wildcard", "path", "expected"),
    [
        ("/img/*", "/img/a.png", True),
        ("/img/*", "/img/b/c.png", True),
        ("/img/*", "/img/x*", True),
        ("/img/*", "/img/", True),
        ("/img/*", "/img", False),
        ("/img/*", "/images/a.png", False),
        ("/*", "/anything/at/all?q=1", True),
        ("/a.jpg*", "/a.jpg?size=1", True),
        ("/a", "/a", True),
        ("/a", "/a/b", False),
        ("/*", "#tag", False),
        ("#Tag", "#tag", True),
    ],
)
def test_covers(wildcard: str, path: str, expected: bool) -> None:
    """'*' matches anything, '/' included; tags are never covered by paths."""
    assert expected == covers(wildcard, path)


# --- plan_paths: concrete cases ----------------------------------------------------


def test_plan_drops_duplicates_and_covered_paths() -> None:
    """Duplicates after normalisation and paths a wildcard covers are dropped and counted."""
    plan = plan_paths(
        ["/img/*", "/img/a.png", "img/a.png", "/img/x*", "/b", "b", "/img", "/c d", "/c%20d"]
    )
    assert [("/b", "/c%20d", "/img", "/img/*")] == [b.items for b in plan.batches]
    assert plan.input_count == 9
    assert plan.duplicates_dropped == 3
    assert plan.covered_dropped == 2
    assert plan.billable == 4
    assert dict(plan.covered) == {"/img/*": ("/img/a.png", "/img/x*")}
    assert plan.covering("img/a.png") == "/img/*"
    assert plan.covering("/b") is None


def test_plan_slash_star_covers_everything_but_tags() -> None:
    """'/*' replaces every path; cache tags survive and tags dedupe case-insensitively."""
    plan = plan_paths(["/a", "/b/c", "/*", "/x*", "#Release", "#release"])
    assert [("#Release", "/*")] == [b.items for b in plan.batches]
    assert plan.duplicates_dropped == 1
    assert plan.covered_dropped == 3


def test_plan_chunks_files_and_wildcards_independently() -> None:
    """Each batch holds at most `files` file paths and at most `wildcards` wildcards."""
    files = [f"/f{i:04d}" for i in range(7000)]
    wildcards = [f"/w{i:02d}/*" for i in range(31)]
    plan = plan_paths(files + wildcards)
    assert [(3000, 15), (3000, 15), (1000, 1)] == [(b.files, b.wildcards) for b in plan.batches]
    assert plan.billable == 7031


def test_plan_of_nothing_has_no_batches() -> None:
    """An empty change list plans no batch at all."""
    plan = plan_paths([])
    assert plan.batches == ()
    assert plan.billable == 0


def test_plan_reports_every_invalid_path_at_once() -> None:
    """All invalid paths are collected into one error, so one fix round suffices."""
    with pytest.raises(InvalidPathError) as info:
        plan_paths(["/ok", "/a*b", "", "/also-ok", "#a,b"])
    assert sorted(info.value.paths) == ["", "#a,b", "/a*b"]
    assert "3 invalid paths" in str(info.value)


def test_plan_rejects_a_bare_string() -> None:
    """A single string is almost always a mistake for a list of one path."""
    with pytest.raises(TypeError, match="single string"):
        plan_paths("/index.html")


def test_plan_rejects_non_strings_naming_them() -> None:
    """A non-string item is reported with its value."""
    with pytest.raises(TypeError, match="None"):
        plan_paths(["/a", None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"tree paths must be str, got None \(NoneType\)"):
        plan_paths(["/a"], tree=["/a", None])  # type: ignore[list-item]


def test_plan_accepts_any_iterable() -> None:
    """Generators work as well as lists."""
    plan = plan_paths(f"/p{i}" for i in range(3))
    assert plan.input_count == 3
    assert plan.billable == 3


def test_paths_quantity_is_derived() -> None:
    """Quantity can never disagree with Items."""
    paths = Paths(["/a", "/b*"])
    assert paths.quantity == 2
    assert paths.files == 1
    assert paths.wildcards == 1


# --- properties ------------------------------------------------------------------

_ALPHABET = string.ascii_letters[:6] + string.digits[:3] + "/-._*?%#~ é日\t" + UNSAFE
raw_paths = st.text(alphabet=_ALPHABET, min_size=1, max_size=20)


def _valid(path: str) -> bool:
    try:
        normalize_path(path)
    except InvalidPathError:
        return False
    return True


valid_paths = raw_paths.filter(_valid)
small_limits = st.builds(
    Limits,
    files=st.integers(1, 6),
    wildcards=st.integers(1, 3),
    path_length=st.just(4000),
)


@given(valid_paths)
def test_normalisation_is_idempotent(path: str) -> None:
    """Normalising a normalised path changes nothing."""
    once = normalize_path(path)
    assert once == normalize_path(once)


@given(valid_paths)
def test_normalised_paths_are_valid_as_sent(path: str) -> None:
    """Whatever normalize_path returns, CloudFront accepts as is."""
    assert path_problem(normalize_path(path)) is None


@given(raw_paths)
def test_normalize_either_returns_or_raises_invalid_path(path: str) -> None:
    """No input crashes the normaliser with anything but InvalidPathError."""
    if _valid(path):
        assert normalize_path(path).startswith(("/", "#"))
    else:
        with pytest.raises(InvalidPathError) as info:
            normalize_path(path)
        assert info.value.paths == (path,)


@given(st.lists(valid_paths, max_size=40), small_limits)
def test_every_input_path_is_covered_by_a_planned_path(paths: list[str], limits: Limits) -> None:
    """Nothing valid is lost: each input is sent as is, or covered by what is sent."""
    plan = plan_paths(paths, limits=limits)
    sent = [item for batch in plan.batches for item in batch.items]
    for path in paths:
        normalized = normalize_path(path)
        assert any(covers(item, normalized) for item in sent), path


@given(st.lists(valid_paths, max_size=40), small_limits)
def test_no_batch_exceeds_the_limits(paths: list[str], limits: Limits) -> None:
    """Every batch fits CloudFront's per-batch limits, and no batch is empty."""
    plan = plan_paths(paths, limits=limits)
    for batch in plan.batches:
        assert 0 < batch.quantity
        assert batch.files <= limits.files
        assert batch.wildcards <= limits.wildcards


@given(st.lists(valid_paths, max_size=40), small_limits)
def test_planned_paths_are_valid_unique_and_minimal(paths: list[str], limits: Limits) -> None:
    """Output paths are valid, sent once, and none covers another."""
    plan = plan_paths(paths, limits=limits)
    sent = [item for batch in plan.batches for item in batch.items]
    assert all(path_problem(item) is None for item in sent)
    assert len({s.casefold() if s.startswith("#") else s for s in sent}) == len(sent)
    for a in sent:
        for b in sent:
            assert a is b or a == b or not covers(a, b), (a, b)


@given(st.lists(valid_paths, max_size=40), small_limits, st.randoms())
def test_plan_is_independent_of_input_order(
    paths: list[str], limits: Limits, rnd: random.Random
) -> None:
    """Shuffling the input gives the identical plan."""
    shuffled = list(paths)
    rnd.shuffle(shuffled)
    assert plan_paths(paths, limits=limits) == plan_paths(shuffled, limits=limits)


@given(st.lists(valid_paths, max_size=40))
def test_counts_account_for_every_input(paths: list[str]) -> None:
    """Input = billable + duplicates dropped + covered dropped."""
    plan = plan_paths(paths)
    assert plan.input_count == len(paths)
    assert plan.input_count == plan.billable + plan.duplicates_dropped + plan.covered_dropped
    assert plan.covered_dropped == sum(len(v) for v in plan.covered.values())


# A `*` anywhere but last is never valid: these are invalid by construction.
surely_invalid = raw_paths.map(lambda p: f"/{p}*x")


@given(
    st.lists(valid_paths, min_size=1, max_size=20),
    st.lists(raw_paths, max_size=5),
    st.lists(surely_invalid, min_size=1, max_size=3),
)
def test_all_invalid_paths_are_reported(good: list[str], other: list[str], bad: list[str]) -> None:
    """An invalid path anywhere fails the whole plan and names every invalid one."""
    given = good + other + bad
    invalid = [p for p in given if not _valid(p)]
    with pytest.raises(InvalidPathError) as info:
        plan_paths(given)
    assert set(info.value.paths) == set(invalid)
    assert set(bad) <= set(info.value.paths)
