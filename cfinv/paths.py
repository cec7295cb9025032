r"""
The path planner: normalise, validate, deduplicate, drop covered paths, chunk.

Pure functions, no I/O.  The rules are CloudFront's (see the docs' "Limits and
rules" page):

* every path starts with ``/``; items starting with ``#`` are cache tags;
* non-ASCII characters (as UTF-8), control characters and RFC 1738's unsafe
  characters (space ``< > " # % { } | \ ^ ~ [ ] `````) are percent-encoded,
  nothing else is: ``*``, ``/`` and ``?`` keep their meaning;
* ``*`` may only be the last character and matches anything, ``/`` included;
* a path is at most 4,000 characters after encoding.
"""

from __future__ import annotations

import bisect
import re
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from cfinv._packing import next_batch
from cfinv.errors import InvalidPathError, PathProblem, shortened
from cfinv.models import Limits, Paths, first_non_str, is_wildcard

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cfinv._cover import Cover

__all__ = [
    "DEFAULT_BUDGET_LIMIT",
    "DEFAULT_MAX_WILDCARDS",
    "DEFAULT_PRICE_PER_OBJECT",
    "Plan",
    "covers",
    "is_wildcard",
    "normalize_path",
    "path_problem",
    "plan_paths",
]

_DEFAULT_LIMITS = Limits()

# Printable ASCII that CloudFront takes as is: everything but the RFC 1738
# unsafe set, ``%`` (only as the start of an escape) and ``*`` (only last).
_SAFE = r"!$&'()+,\-./0-9:;=?@A-Z_a-z"
# A file path that needs no work at all.  One cheap C-level call per path is
# what keeps planning a million clean paths close to ``sorted(set(paths))``;
# everything else (``%`` escapes, wildcards, tags, anything to encode) takes
# the careful path, which is rare in a real deploy.
_CLEAN = re.compile(rf"/[{_SAFE}]*").fullmatch
# What the slow path rewrites: a valid escape (kept) or a character to encode.
_TO_ENCODE = re.compile(rf"%[0-9A-Fa-f]{{2}}|[^{_SAFE}*]")

_TAG_MAX = 256


def _escape(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) == 3:  # noqa: PLR2004 - an existing %XX escape, kept as it is
        return text
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8"))


def _tag_problem(item: str) -> str | None:
    tag = item[1:]
    if not tag:
        return "a cache tag needs a name after '#'"
    if len(tag) > _TAG_MAX:
        return f"a cache tag is at most {_TAG_MAX} characters, this one has {len(tag)}"
    if "*" in tag:
        return "a cache tag cannot contain the '*' wildcard"
    bad = sorted({ch for ch in tag if not (33 <= ord(ch) <= 126) or ch == ","})  # noqa: PLR2004
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        return f"a cache tag may only hold printable ASCII without commas, found {shown}"
    return None


def _normalize(path: str, limits: Limits) -> str | PathProblem:
    """Normalise one path, or say why it cannot be (no exception: planning collects them)."""
    if not path.strip():
        return PathProblem(path, "empty or blank path")
    if path.startswith("#"):
        problem = _tag_problem(path)
        return path if problem is None else PathProblem(path, problem)
    try:
        encoded = _TO_ENCODE.sub(_escape, path if path.startswith("/") else "/" + path)
    except UnicodeEncodeError:
        return PathProblem(path, "contains a character that cannot be encoded as UTF-8")
    star = encoded.find("*")
    if star != -1 and star != len(encoded) - 1:
        return PathProblem(path, "'*' may only be the last character of a path")
    if len(encoded) > limits.path_length:
        return PathProblem(
            path,
            f"is {len(encoded)} characters after URL-encoding; "
            f"CloudFront accepts at most {limits.path_length}",
        )
    return encoded


def normalize_path(path: str, *, limits: Limits = _DEFAULT_LIMITS) -> str:
    """
    Return ``path`` as CloudFront expects it.

    Adds a missing leading ``/``; percent-encodes (as UTF-8) non-ASCII and
    control characters and exactly RFC 1738's unsafe set; keeps valid ``%XX``
    escapes as they are (no double encoding) and encodes a lone ``%``; never
    encodes ``*``, ``/``, ``?`` or anything else.  Items that begin with ``#``
    are cache tags and are returned unchanged once validated.

    >>> normalize_path("images/café menu.png")
    '/images/caf%C3%A9%20menu.png'
    >>> normalize_path("/docs/100%25/*")
    '/docs/100%25/*'

    Args:
        path: A path or ``#tag`` as a user wrote it.
        limits: Supplies the maximum path length (4,000 by default).

    Returns:
        The normalised path; normalising it again returns it unchanged.

    Raises:
        InvalidPathError: The path is empty or blank, has a ``*`` before its
            end, is too long after encoding, or is an invalid cache tag.
        TypeError: ``path`` is not a ``str``.
    """
    if first_non_str([path]) is not None:
        msg = f"a path must be a str, got {shortened(path)} ({type(path).__name__})"
        raise TypeError(msg)
    result = _normalize(path, limits)
    if isinstance(result, PathProblem):
        raise InvalidPathError([result])
    return result


def path_problem(path: str, *, limits: Limits = _DEFAULT_LIMITS) -> str | None:
    """
    Say why CloudFront would reject ``path`` exactly as given, or return None.

    This is the check for a path that is about to be sent unchanged (as the
    AWS CLI does, and as the emulator receives it): it must already start with
    ``/`` and be encoded.

    Args:
        path: A path or ``#tag`` as it would go on the wire.
        limits: Supplies the maximum path length.

    Returns:
        The reason the path is invalid, or ``None`` if CloudFront accepts it.
    """
    if path.startswith("#"):
        return _tag_problem(path)
    if not path.startswith("/"):
        return "must start with '/'"
    result = _normalize(path, limits)
    if isinstance(result, PathProblem):
        return result.reason
    if result != path:
        unencoded = sorted({m.group() for m in _TO_ENCODE.finditer(path) if len(m.group()) != 3})  # noqa: PLR2004
        shown = ", ".join(repr(ch) for ch in unencoded)
        return f"contains characters that must be URL-encoded: {shown}"
    return None


def covers(wildcard: str, path: str) -> bool:
    """
    Whether invalidating ``wildcard`` also invalidates ``path``.

    ``*`` matches zero or more characters, ``/`` included, so ``/img/*``
    covers ``/img/a.png``, ``/img/b/c.png`` and ``/img/x*``, and ``/*`` covers
    every path.  A path covers itself.  Cache tags (``#tag``) are never
    covered by a path; two tags cover each other when they are equal ignoring
    case.  Both arguments are taken as normalised.

    Args:
        wildcard: A path that may end in ``*`` (or a ``#tag``).
        path: The path (or ``#tag``) that may be covered.

    >>> covers("/img/*", "/img/b/c.png")
    True
    >>> covers("/img/*", "/img")
    False
    """
    if wildcard.startswith("#") or path.startswith("#"):
        return wildcard.casefold() == path.casefold()
    if wildcard.endswith("*"):
        return path.startswith(wildcard[:-1])
    return wildcard == path


def _successor(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@attrs.frozen
class Plan:
    """
    What `plan_paths` decided: the batches to send, and what it dropped.

    Every input path is accounted for: it is in a batch (possibly after
    normalisation), a duplicate of one that is, or covered by a wildcard that
    is (see `covered`).

    Attributes:
        batches: The batches to send, each within the limits, in a
            deterministic order.
        input_count: How many paths were given.
        duplicates_dropped: Paths equal, after normalisation, to another path
            of the input (cache tags compare case-insensitively).
        covered_dropped: Distinct paths dropped because a wildcard in the
            same input covers them.
        covered: For each wildcard that is sent, the distinct paths it made
            unnecessary (normalised): wildcards of the input, and those a
            budget chose (``collapsed``).
        limits: The limits the batches respect.
        collapsed: Distinct changed paths sent as part of a wildcard that the
            budget (``max_paths``) chose instead of one by one.
        collateral: Unchanged paths of the tree that the wildcards sent
            invalidate too (``None`` without a tree: unknown).
        aliases_added: Directory URLs added for changed index documents
            (``/a/`` for ``/a/index.html``, with ``index_document``).
    """

    batches: tuple[Paths, ...]
    input_count: int
    duplicates_dropped: int
    covered_dropped: int
    covered: Mapping[str, tuple[str, ...]] = attrs.field(repr=False)
    limits: Limits = _DEFAULT_LIMITS
    collapsed: int = 0
    collateral: int | None = None
    aliases_added: int = 0

    @property
    def billable(self) -> int:
        """The paths CloudFront bills: one per path sent, a wildcard counting as one."""
        return sum(batch.quantity for batch in self.batches)

    @property
    def files(self) -> int:
        """File paths and tags sent."""
        return sum(batch.files for batch in self.batches)

    @property
    def wildcards(self) -> int:
        """Wildcard paths sent."""
        return sum(batch.wildcards for batch in self.batches)

    def estimated_cost(self, *, paths_already_this_month: int = 0) -> float:
        """
        US dollars CloudFront would charge for this plan, at $0.005 a path beyond the free 1,000.

        Args:
            paths_already_this_month: Paths the account invalidated earlier this month.
        """
        from cfinv.report import cost_of  # the one price list

        return cost_of(self.billable, paths_already_this_month=paths_already_this_month)

    def covering(self, path: str) -> str | None:
        """
        Return the wildcard of this plan that covers ``path``, if any.

        Args:
            path: A path as given to `plan_paths` (it is normalised).
        """
        normalized = normalize_path(path, limits=self.limits)
        for wildcard in self.covered:
            if covers(wildcard, normalized):
                return wildcard
        return None


def _normalize_all(given: list[str] | tuple[str, ...], limits: Limits) -> tuple[set[str], set[str]]:
    """Return the distinct normalised paths and, among them, the wildcards."""
    try:
        unique_raw = set(given)
        clean, max_len = _CLEAN, limits.path_length
        dirty = [p for p in unique_raw if not (len(p) <= max_len and clean(p))]
    except TypeError:
        (bad,) = first_non_str(given) or ("?",)
        msg = f"paths must be str, got {shortened(bad)} ({type(bad).__name__})"
        raise TypeError(msg) from None
    if not dirty:
        return unique_raw, set()
    problems: list[PathProblem] = []
    fixed: set[str] = set()
    for path in dirty:
        result = _normalize(path, limits)
        if isinstance(result, PathProblem):
            problems.append(result)
        else:
            fixed.add(result)
    if problems:
        raise InvalidPathError(sorted(problems, key=lambda p: p.path))
    # Clean paths never end in '*', so every wildcard came through here.
    return (unique_raw - set(dirty)) | fixed, {p for p in fixed if is_wildcard(p)}


def _dedupe_tags(tags: list[str]) -> list[str]:
    """Cache tags are case-insensitive: keep the smallest spelling of each."""
    by_key: dict[str, str] = {}
    for tag in tags:  # sorted, so the first spelling seen is the smallest
        by_key.setdefault(tag.casefold(), tag)
    return sorted(by_key.values())


def _drop_covered(
    ordered: list[str], wildcards: set[str]
) -> tuple[list[str], list[str], dict[str, tuple[str, ...]]]:
    """
    Split sorted paths into (uncovered files, minimal wildcards, what each covers).

    Every path a wildcard covers starts with its prefix, so in the sorted list
    they form one contiguous run found by bisection; the runs of the kept
    wildcards are disjoint because no kept prefix starts another.
    """
    kept: list[str] = []
    for prefix in sorted(w[:-1] for w in wildcards):
        if not (kept and prefix.startswith(kept[-1])):
            kept.append(prefix)
    files: list[str] = []
    covered: dict[str, tuple[str, ...]] = {}
    start = 0
    for prefix in kept:
        lo = bisect.bisect_left(ordered, prefix, start)
        hi = bisect.bisect_left(ordered, _successor(prefix), lo)
        files.extend(ordered[start:lo])
        wildcard = prefix + "*"
        own = bisect.bisect_left(ordered, wildcard, lo, hi)
        covered[wildcard] = tuple(ordered[lo:own] + ordered[own + 1 : hi])
        start = hi
    files.extend(ordered[start:])
    return files, [prefix + "*" for prefix in kept], covered


def _chunk(files: list[str], wildcards: list[str], limits: Limits) -> tuple[Paths, ...]:
    """Fill batches as an idle distribution takes them: files and wildcards counted apart."""
    batches = []
    f = w = 0
    while f < len(files) or w < len(wildcards):
        size = next_batch(
            len(files) - f,
            len(wildcards) - w,
            limits.files,
            limits.wildcards,
            limits=limits,
            per_request=limits.paths_per_request,
        )
        assert size is not None  # noqa: S101 - a full budget always takes something
        batches.append(Paths(files[f : f + size[0]] + wildcards[w : w + size[1]]))
        f, w = f + size[0], w + size[1]
    return tuple(batches)


def plan_paths(
    paths: Iterable[str],
    *,
    limits: Limits = _DEFAULT_LIMITS,
    tree: Iterable[str] | None = None,
    max_paths: int | None = None,
    max_wildcards: int | None = None,
    index_document: str | None = None,
) -> Plan:
    """
    Normalise, validate, deduplicate, collapse within a budget, and chunk paths into batches.

    1. Every path goes through `normalize_path`; all invalid ones are
       collected and raised together.
    2. Exact duplicates (after normalisation) are dropped.
    3. Every path that a wildcard of the same input covers is dropped (also a
       narrower wildcard): ``/img/*`` makes ``/img/a.png`` and ``/img/x*``
       redundant.  Tags are never covered by path wildcards.
    4. With ``index_document`` (``"index.html"``), a changed ``/a/index.html``
       also invalidates ``/a/``, the URL viewers request and CloudFront caches.
    5. With the site's ``tree``, the changed paths are collapsed into the
       exact paths and prefix wildcards that cover them within ``max_paths``
       billable paths (and ``max_wildcards`` wildcards) and invalidate the
       fewest unchanged paths of the tree: the optimum, found by a dynamic
       program over the paths' trie (`cfinv._cover`).  Without ``max_paths``
       the cheapest budget is chosen, collateral priced at
       `DEFAULT_PRICE_PER_OBJECT` an object against $0.005 a path.
    6. What remains is chunked as an idle distribution would take it: each
       batch holds at most ``limits.files`` file paths (tags count as
       files), at most ``limits.wildcards`` wildcard paths, and at most
       ``limits.paths_per_request`` paths in all when that is set.  An
       `Invalidator` cuts its batches when it sends them, to the capacity
       free then, so with other writers around its batches may differ.

    The result depends only on the set of paths given, not on their order.

    Args:
        paths: The changed paths (added, modified and deleted), in any form
            `normalize_path` accepts.
        limits: The per-batch limits (CloudFront's quotas by default).
        tree: Every path the site serves after the deploy (raw or encoded),
            to count what a wildcard would invalidate besides the change.
            Entries that are not valid paths are ignored.
        max_paths: At most this many billable paths (a wildcard counts as
            one); needs ``tree``.  Default with a tree: the budget that
            minimises the price of the paths plus `DEFAULT_PRICE_PER_OBJECT`
            per collateral object.
        max_wildcards: At most this many wildcards; needs ``tree``.
        index_document: The file a directory URL serves (``"index.html"``),
            for sites served by an S3 website endpoint or a rewrite.

    Returns:
        The `Plan`.

    Raises:
        InvalidPathError: One or more paths are invalid (all are listed).
        TypeError: ``paths`` is a single string, or holds a non-string.
        ValueError: A budget without a tree, or a budget too small for the
            cache tags given or for the change (the message says which).
    """
    if isinstance(paths, (str, bytes)):
        msg = f"plan_paths() takes an iterable of paths, not a single string: {shortened(paths)}"
        raise TypeError(msg)
    if max_paths is not None or max_wildcards is not None:
        _check_budgets(max_paths, max_wildcards)
    if tree is None and (max_paths is not None or max_wildcards is not None):
        budgets = [
            f"{name}={value}"
            for name, value in (("max_paths", max_paths), ("max_wildcards", max_wildcards))
            if value is not None
        ]
        msg = (
            f"a budget ({', '.join(budgets)}) collapses paths into wildcards, which needs the "
            "site's tree (tree=...) to count what else they would invalidate; without a tree "
            "every changed path is sent as given"
        )
        raise ValueError(msg)
    given = paths if isinstance(paths, (list, tuple)) else list(paths)
    normalized, wildcards = _normalize_all(given, limits)
    ordered = sorted(normalized)
    # '#' sorts before '/', so the cache tags are the head of the sorted list.
    split = bisect.bisect_left(ordered, "/")
    tags = _dedupe_tags(ordered[:split]) if split else []
    files, kept, covered = _drop_covered(ordered[split:], wildcards)
    covered_dropped = sum(len(paths) for paths in covered.values())
    collapsed = aliases_added = 0
    collateral: int | None = None
    if index_document is not None:
        from cfinv._cover import check_index_document  # the one rule for it

        check_index_document(index_document)
    if tree is not None:
        collapse = _with_tree(
            tags, files, kept, covered, set(ordered[split:]),
            tree=_normalize_tree(tree, limits),
            budgets=(max_paths, max_wildcards),
            index=index_document,
        )  # fmt: skip
        files, kept, covered, collapsed, collateral, aliases_added = collapse
    elif index_document:
        files, aliases_added = _add_aliases(
            files, kept, everything=set(ordered[split:]), index=index_document
        )
    return Plan(
        batches=_chunk(tags + files, kept, limits),
        input_count=len(given),
        duplicates_dropped=len(given) - len(ordered) + split - len(tags),
        covered_dropped=covered_dropped,
        covered=MappingProxyType(covered),
        limits=limits,
        collapsed=collapsed,
        collateral=collateral,
        aliases_added=aliases_added,
    )


#: With a tree and no ``max_paths``, the budget is the one (up to `DEFAULT_BUDGET_LIMIT`
#: paths and `DEFAULT_MAX_WILDCARDS` wildcards) that minimises ``PRICE_PER_PATH * paths
#: + DEFAULT_PRICE_PER_OBJECT * collateral``: an object thrown out of the cache for nothing
#: is priced at a tenth of a path (the origin serves it again).  On 39 real deploys this
#: costs 3 % more paths than a fixed budget of 15 for 31 % less collateral, and a third of
#: the paths of a budget of 50 for less collateral (the docs' "Spend less" page).
DEFAULT_PRICE_PER_OBJECT = 0.0005
#: The largest budget the default policy considers.
DEFAULT_BUDGET_LIMIT = 100
#: The wildcards the default policy may use: what CloudFront keeps in progress at once.
DEFAULT_MAX_WILDCARDS = 15


def _normalize_tree(tree: Iterable[str], limits: Limits) -> frozenset[str]:
    """The tree's paths as CloudFront matches them (encoded); invalid entries are ignored."""
    if isinstance(tree, (str, bytes)):
        msg = f"tree must be an iterable of paths, not a single string: {shortened(tree)}"
        raise TypeError(msg)
    served: set[str] = set()
    paths = list(tree)
    found = first_non_str(paths)
    if found is not None:
        (bad,) = found
        msg = f"tree paths must be str, got {shortened(bad)} ({type(bad).__name__})"
        raise TypeError(msg)
    for path in paths:
        clean = _CLEAN(path) and len(path) <= limits.path_length
        result = path if clean else _normalize(path, limits)
        if isinstance(result, str) and not is_wildcard(result) and result.startswith("/"):
            served.add(result)
    if not served:
        # Every wildcard would look free, and /* would win: a wrong source, most likely.
        msg = "the tree is empty: give every path the site serves, or no tree at all"
        raise ValueError(msg)
    return frozenset(served)


def _check_budgets(max_paths: object, max_wildcards: object) -> None:
    from cfinv._cover import check_budget  # the one rule for a budget

    check_budget(max_paths, "max_paths")
    check_budget(max_wildcards, "max_wildcards")


def _with_tree(
    tags: list[str],
    files: list[str],
    kept: list[str],
    covered: dict[str, tuple[str, ...]],
    everything: set[str],
    *,
    tree: frozenset[str],
    budgets: tuple[int | None, int | None],
    index: str | None,
) -> tuple[list[str], list[str], dict[str, tuple[str, ...]], int, int, int]:
    """
    The collapse: (files, wildcards, covered, collapsed, collateral, aliases added).

    The input's wildcards are part of the collapse: each is sent as it is or
    inside a wider chosen wildcard, within both budgets; what they
    invalidate is invalidated anyway, so it is outside the collapse's
    reckoning (no collateral counted twice).  Directory URLs of changed
    index documents are needed even when a wildcard of the input covers the
    document but not the directory URL.
    """
    max_paths, max_wildcards = budgets
    fixed = len(tags)
    budget = _budget(max_paths, max_wildcards, tags=fixed)
    needed = set(files)
    if index:
        needed |= {a for a in _aliases(everything, index) if not _under(a, kept)}
    try:
        cover = _collapse(sorted(needed), tree, budget, index, fixed=fixed, wildcards=kept)
    except ValueError as exc:
        raise _budget_error(exc, max_paths, max_wildcards, fixed) from None
    wildcards = sorted(p for p in cover.paths if is_wildcard(p))
    sent = sorted(p for p in cover.paths if not is_wildcard(p))
    changed = set(sent) | everything
    collapsed = sum(1 for paths in cover.covered.values() for p in paths if p in changed)
    aliases = len(needed - everything)
    covered = _what_each_covers(wildcards, kept, covered, cover.covered)
    collateral = _collateral(wildcards, tree, everything, index)
    return sent, wildcards, covered, collapsed, collateral, aliases


def _what_each_covers(
    wildcards: list[str],
    kept: list[str],
    given: dict[str, tuple[str, ...]],
    chosen: Mapping[str, tuple[str, ...]],
) -> dict[str, tuple[str, ...]]:
    """
    For each wildcard sent, every path of the input it makes unnecessary.

    A wildcard of the input sent as it is keeps what it covered; a wider one
    the collapse chose covers the changed paths it collapsed, and the input's
    wildcards inside it with what they covered.
    """
    result: dict[str, tuple[str, ...]] = {}
    for wildcard in wildcards:
        paths = set(given.get(wildcard, ())) | set(chosen.get(wildcard, ()))
        for inner in kept:
            if inner != wildcard and inner.startswith(wildcard[:-1]):
                paths.add(inner)
                paths.update(given.get(inner, ()))
        result[wildcard] = tuple(sorted(paths))
    return result


def _budget(
    max_paths: int | None, max_wildcards: int | None, *, tags: int
) -> tuple[int | None, int | None]:
    """
    (paths, wildcards) left for the collapse after the cache tags given.

    The input's wildcards are part of the collapse: each is sent as it is or
    inside a wider wildcard, and counts against both budgets.  ``None``
    paths: the default policy chooses (`DEFAULT_PRICE_PER_OBJECT`).
    """
    if max_paths is None:
        return None, max_wildcards
    left = max_paths - tags
    if left < 0:
        msg = (
            f"max_paths={max_paths} is less than the {tags} cache tags given, "
            "which are sent as they are"
        )
        raise ValueError(msg)
    return left, max_wildcards


def _collapse(
    files: list[str],
    served: frozenset[str],
    budget: tuple[int | None, int | None],
    index: str | None,
    *,
    fixed: int,
    wildcards: list[str],
) -> Cover:
    from cfinv._cover import cheapest_cover, optimal_cover  # the dynamic program
    from cfinv.report import PRICE_PER_PATH

    max_paths, max_wildcards = budget
    if max_paths is None:  # the default: the cheapest budget, collateral priced too
        limit = DEFAULT_BUDGET_LIMIT - fixed
        if limit >= 1 and (files or wildcards):
            return cheapest_cover(
                files,
                served,
                max_paths=limit,
                max_wildcards=DEFAULT_MAX_WILDCARDS if max_wildcards is None else max_wildcards,
                index_document=index,
                wildcards=wildcards,
                price=lambda paths, collateral: (
                    PRICE_PER_PATH * paths + DEFAULT_PRICE_PER_OBJECT * collateral
                ),
            )
        if max_wildcards is not None:  # no room left for a default: only the cap collapses
            max_paths = max(1, len(files) + len(wildcards))
    return optimal_cover(
        files,
        served,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index,
        wildcards=wildcards,
    )


def _under(path: str, wildcards: Iterable[str]) -> bool:
    """Whether a wildcard (``p*``) of ``wildcards`` covers ``path``."""
    return any(path.startswith(w[:-1]) for w in wildcards)


def _aliases(paths: Iterable[str], index: str) -> set[str]:
    """The directory URLs (``/a/``) of the index documents (``/a/index.html``) among ``paths``."""
    suffix = "/" + index
    return {p[: -len(index)] for p in paths if p.endswith(suffix)}


def _collateral(
    wildcards: list[str], served: frozenset[str], changed: set[str], index: str | None
) -> int:
    """Unchanged URLs of the site (served paths and their directory URLs) the wildcards cover."""
    if not wildcards:
        return 0
    urls = set(served) | (_aliases(served, index) if index else set())
    touched = changed | (_aliases(changed, index) if index else set())
    ordered = sorted(urls - touched)
    total = 0
    for prefix in sorted(w[:-1] for w in wildcards):  # disjoint: none nested in another
        lo = bisect.bisect_left(ordered, prefix)
        total += bisect.bisect_left(ordered, _successor(prefix), lo) - lo
    return total


def _budget_error(
    exc: ValueError, max_paths: int | None, max_wildcards: int | None, fixed: int
) -> ValueError:
    """The cover's refusal, in the numbers the caller gave (not what was left of them)."""
    asked = ", ".join(
        f"{name}={value}"
        for name, value in (("max_paths", max_paths), ("max_wildcards", max_wildcards))
        if value is not None
    )
    shown = asked or "the default budget"
    extra = f" after the {fixed} cache tags given" if fixed else ""
    return ValueError(f"{shown}{extra} cannot cover the change: {exc}")


def _add_aliases(
    files: list[str], kept: list[str], *, everything: set[str], index: str
) -> tuple[list[str], int]:
    """Add ``/a/`` for each changed ``/a/<index>`` (covered or not) that no wildcard covers."""
    have = set(files)
    extra = {a for a in _aliases(everything, index) if a not in have and not _under(a, kept)}
    return sorted(have | extra), len(extra)
