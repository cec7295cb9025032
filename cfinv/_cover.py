"""
The exact least-collateral wildcard cover of a deploy, within a budget of paths.

Internal: the planner builds on `optimal_cover`; users read its `Cover`.

The problem.  A deploy changed some URLs (``changed``, deleted ones included) of
a site that serves ``tree``.  Send exact paths and prefix wildcards (``p*``
matches every URL that starts with ``p``; CloudFront lets ``*`` end any prefix,
``/assets/js/app.*`` as well as ``/blog/*``) so that every changed URL is
covered, at most ``max_paths`` paths are billed (a wildcard bills as one) and at
most ``max_wildcards`` are wildcards, while the fewest *unchanged* URLs are
matched by a wildcard (the collateral: objects thrown out of the cache for
nothing, which the origin must serve again).  Ties go to fewer billable paths,
then fewer wildcards, then the first cover in the trie's sorted order.

Why a trie of the changed URLs suffices.  Nested wildcards are redundant, so the
wildcards of a cover are disjoint prefixes, and the changed URLs they leave out
are sent exactly.  A wildcard that covers one changed URL is never better than
that URL sent exactly (same bill, more collateral or more wildcards), so only
prefixes covering at least two changed URLs matter.  Among the prefixes that
cover the same changed URLs, the longest has the least collateral; those are
exactly the nodes of the compressed (radix) trie of the changed URLs: its branch
points and its URLs.  The wildcard *written* for a node is a prefix that
matches the very same URLs of the whole site (so it costs the same): the longest
such prefix that ends at a ``/`` (``/blog/*`` rather than ``/blog/p*`` when
every URL of ``/blog/`` starts with ``p``; ``/docs/*`` rather than ``/*`` when
the site is all under ``/docs/``), else the node's own prefix
(``/assets/js/app.*``, ``/index.*``).  Of the equally cheap prefixes these read
best and throw away the fewest objects the tree does not list (files deleted in
earlier deploys that a cache may still hold).  A ``%XX`` escape is one symbol
of the trie, so no wildcard ends inside one.

The program.  Bottom-up over that trie, each node keeps the Pareto set of its
sub-covers as ``(wildcards, billable, key)`` entries, where ``key`` orders
collateral, then billable, then wildcards: a node's set is the min-plus
(knapsack) sum of its children's sets, plus the one-wildcard-here option, cut
at ``max_paths`` and ``max_wildcards``, keeping only entries that no entry with
at most as many wildcards and billable paths beats.  Without a wildcard cap the
wildcard count is not a dimension, only a tie-break.  Two prunings do most of
the work on real deploys: a single changed URL is sent exactly, and a subtree
whose URLs all changed is one free wildcard (plus, under a wildcard cap, the
all-exact alternative), so neither is expanded.

Complexity.  With ``n`` changed URLs (index aliases included), ``m`` site URLs,
budget ``B`` and wildcard cap ``W``: building the trie and counting collateral
(binary search in the sorted URLs) is ``O((n + m) log m)`` string operations.
A node's Pareto set has at most ``min(B, c) + 1`` entries per wildcard count
(``c`` = changed URLs below it) and at most ``min(W, c / 2) + 1`` wildcard
counts, so merging is ``O(n B)`` in all without a cap (the tree-knapsack bound:
a merge of sets of sizes ``min(B, a)`` and ``min(B, b)`` is paid for by the
``a + b`` URLs below it) and ``O(n B W^2)`` with one, in the worst case.  On
the real deploys of ``tests/benchmarks/bench_collapse.py`` (sites of up to
6,600 paths and 6,500 changes; the index aliases make up to 13,000 URLs) the
Pareto sets stay far smaller: the slowest deploy takes well under a second at
``B = 100``, with or without ``W = 15`` (the benchmark prints the figures).
"""

from __future__ import annotations

import bisect
import re
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeAlias

import attrs

from cfinv.models import first_non_str

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["Cover", "check_budget", "least_collateral", "optimal_cover"]

# A %XX escape becomes one private-use character while planning, so that no
# prefix (hence no wildcard) ends between '%' and its two hex digits.  Encoded
# paths are ASCII, so these characters cannot clash with a path's own.
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_FIRST_TOKEN = 0xE000
# Greater than every character of a tokenised path: ``s + _TOP`` bounds the
# strings that start with ``s``.
_TOP = "\U0010ffff"

#: How a sub-cover is remembered: None (everything sent exactly), the trie node
#: of one wildcard, or the union of two sub-covers.
_Sol: TypeAlias = "int | tuple[_Sol, _Sol] | None"
#: One Pareto entry of a node: (wildcards, billable, key, how).
_Entry: TypeAlias = "tuple[int, int, int, _Sol]"


def _tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _frozen_mapping(value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(dict(value))


@attrs.frozen
class Cover:
    """
    A set of invalidation paths that covers a deploy's changed URLs.

    Attributes:
        paths: What to send, sorted: exact paths and prefix wildcards
            (``/a/b*``), all encoded.
        billable: How many paths CloudFront bills, ``len(paths)`` (a wildcard
            bills as one path however much it matches).
        wildcards: How many of ``paths`` end in ``*``.
        collateral: How many unchanged URLs of the site (index aliases
            included) the wildcards invalidate.
        covered: For each wildcard of ``paths``, the changed URLs it covers,
            sorted.

    Raises:
        ValueError: ``billable`` or ``wildcards`` does not match ``paths``.
    """

    paths: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    billable: int
    wildcards: int
    collateral: int
    covered: Mapping[str, tuple[str, ...]] = attrs.field(
        converter=_frozen_mapping, eq=True, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        wildcards = sum(1 for path in self.paths if path.endswith("*"))
        if self.billable != len(self.paths) or self.wildcards != wildcards:
            msg = (
                f"a Cover of {len(self.paths)} paths with {wildcards} wildcards cannot "
                f"claim billable={self.billable} and wildcards={self.wildcards}"
            )
            raise ValueError(msg)


class _Tokens:
    """Maps each ``%XX`` escape to one character and back."""

    def __init__(self) -> None:
        self._to: dict[str, str] = {}
        self._from: dict[str, str] = {}

    def _token(self, match: re.Match[str]) -> str:
        text = match.group()
        token = self._to.get(text)
        if token is None:
            token = chr(_FIRST_TOKEN + len(self._to))
            self._to[text] = token
            self._from[token] = text
        return token

    def encode(self, path: str) -> str:
        return _ESCAPE.sub(self._token, path) if "%" in path else path

    def decode(self, text: str) -> str:
        if text.isascii():
            return text
        return "".join(self._from.get(ch, ch) for ch in text)


def _checked_paths(paths: Iterable[str], what: str, *, wildcards_allowed: bool) -> set[str]:
    """Return the distinct paths, or say which one is not an encoded path."""
    if isinstance(paths, str):
        msg = f"{what} must be an iterable of paths, not the single str {paths!r}"
        raise TypeError(msg)
    result = set(paths)
    wrong = first_non_str(result)
    if wrong is not None:
        msg = f"{what} holds {wrong!r} ({type(wrong).__name__}); paths are str"
        raise TypeError(msg)
    for path in result:
        if not path.startswith("/") or not path.isascii():
            msg = (
                f"{what} holds {path!r}, which is not an encoded path: "
                "it must start with '/' and be percent-encoded (cfinv.normalize_path)"
            )
            raise ValueError(msg)
        if not wildcards_allowed and "*" in path:
            msg = f"{what} holds {path!r}: changed URLs are exact, without '*'"
            raise ValueError(msg)
    return result


def check_budget(value: object, name: str) -> None:
    """A budget is a whole number of 0 or more, or None (no limit); else a named error."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an int or None, got {value!r} ({type(value).__name__})"
        raise TypeError(msg)
    if value < 0:
        msg = f"{name}={value} is negative; give 0 or more, or None for no limit"
        raise ValueError(msg)


def _aliases(paths: set[str], index_document: str) -> set[str]:
    """The directory URLs (``/a/``) that serve the index documents among ``paths``."""
    suffix = "/" + index_document
    cut = len(index_document)
    return {path[:-cut] for path in paths if path.endswith(suffix)}


def _lcp(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    limit = min(len(a), len(b))
    i = 0
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _count_under(ordered: list[str], prefix: str) -> tuple[int, int]:
    """The index range of the strings of sorted ``ordered`` that start with ``prefix``."""
    lo = bisect.bisect_left(ordered, prefix)
    return lo, bisect.bisect_left(ordered, prefix + _TOP, lo)


class _Trie:
    """The compressed trie of the (tokenised, sorted) changed URLs."""

    def __init__(self, changed: list[str]) -> None:
        self.text: list[str] = []
        self.own: list[bool] = []
        self.children: list[list[int]] = []
        stack: list[int] = []
        previous = ""
        for url in changed:
            if stack:
                depth = _lcp(previous, url)
                while len(self.text[stack[-1]]) > depth:
                    top = stack.pop()
                    if not stack or len(self.text[stack[-1]]) < depth:
                        stack.append(self._node(url[:depth], own=False))
                    self.children[stack[-1]].append(top)
            stack.append(self._node(url, own=True))
            previous = url
        while len(stack) > 1:
            top = stack.pop()
            self.children[stack[-1]].append(top)
        self.root = stack[0]

    def _node(self, text: str, *, own: bool) -> int:
        self.text.append(text)
        self.own.append(own)
        self.children.append([])
        return len(self.text) - 1


def _join(a: _Sol, b: _Sol) -> _Sol:
    if a is None:
        return b
    if b is None:
        return a
    return (a, b)


def _pareto(
    grid: list[int], how: list[_Sol], rows: int, width: int, out: list[_Entry]
) -> list[_Entry]:
    """
    Append to ``out`` the entries of ``grid`` that no other entry dominates.

    ``grid[w * width + b]`` is the best key with ``w`` wildcards and ``b``
    billable paths.  An entry survives if its key beats every entry with at
    most as many wildcards and billable paths.
    """
    inf = _INF
    below = [inf] * width  # best key with fewer wildcards and at most b paths
    for w in range(rows):
        run = inf  # best key of this row with at most b paths
        base = w * width
        for b in range(width):
            key = grid[base + b]
            bound = below[b]
            bound = min(bound, run)
            if key < bound:
                out.append((w, b, key, how[base + b]))
                run = key
            below[b] = min(below[b], run)
    return out


_INF = 1 << 200


class _Solver:
    """The dynamic program over the trie, for one deploy and one budget."""

    def __init__(
        self,
        trie: _Trie,
        changed: list[str],
        unchanged: list[str],
        budget: int,
        wildcard_cap: int | None,
    ) -> None:
        self.trie = trie
        self.changed = changed
        self.unchanged = unchanged
        self.budget = budget
        self.cap = wildcard_cap
        # key = collateral * m2 + billable * m1 + wildcards: sums stay exact
        # because billable and wildcards never exceed len(changed).
        self.m1 = len(changed) + 1
        self.m2 = self.m1 * self.m1
        self.collateral: dict[int, int] = {}
        # The wildcard dimension of one wildcard: none without a cap.
        self.one = 0 if wildcard_cap is None else 1

    def key(self, collateral: int, billable: int, wildcards: int) -> int:
        return collateral * self.m2 + billable * self.m1 + wildcards

    def combine(self, a: list[_Entry], b: list[_Entry], extra: _Entry | None) -> list[_Entry]:
        """The Pareto set of every sum of an entry of ``a`` and one of ``b`` (and ``extra``)."""
        if not a or not b:  # one side needs more paths than the budget: only extra is left
            return [extra] if extra is not None else []
        rows = min(
            (self.cap if self.cap is not None else 0),
            max(e[0] for e in a) + max(e[0] for e in b) + (extra is not None),
        )
        width = min(self.budget, max(e[1] for e in a) + max(e[1] for e in b)) + 1
        size = (rows + 1) * width
        grid = [_INF] * size
        left = [0] * size
        right = [0] * size
        for i, (w1, b1, k1, _h1) in enumerate(a):
            for j, (w2, b2, k2, _h2) in enumerate(b):
                w = w1 + w2
                bill = b1 + b2
                if w > rows or bill >= width:
                    continue
                cell = w * width + bill
                key = k1 + k2
                if key < grid[cell]:
                    grid[cell] = key
                    left[cell] = i
                    right[cell] = j
        how: list[_Sol] = [None] * size
        for cell in range(size):
            if grid[cell] < _INF:
                how[cell] = _join(a[left[cell]][3], b[right[cell]][3])
        if extra is not None and extra[0] <= rows and extra[1] < width:
            self._place(grid, how, width, extra)
        return _pareto(grid, how, rows + 1, width, [])

    def alone(self, entries: list[_Entry], extra: _Entry) -> list[_Entry]:
        """The Pareto set of ``entries`` and ``extra``."""
        rows = max(e[0] for e in (*entries, extra)) + 1
        width = max(e[1] for e in (*entries, extra)) + 1
        grid = [_INF] * (rows * width)
        how: list[_Sol] = [None] * (rows * width)
        for entry in (*entries, extra):
            self._place(grid, how, width, entry)
        return _pareto(grid, how, rows, width, [])

    @staticmethod
    def _place(grid: list[int], how: list[_Sol], width: int, entry: _Entry) -> None:
        cell = entry[0] * width + entry[1]
        if entry[2] < grid[cell]:
            grid[cell] = entry[2]
            how[cell] = entry[3]

    def below(self, node: int) -> tuple[int, int]:
        """How many changed URLs and unchanged URLs start with the node's prefix."""
        text = self.trie.text[node]
        lo, hi = _count_under(self.changed, text)
        ulo, uhi = _count_under(self.unchanged, text)
        return hi - lo, uhi - ulo

    def _settled(self, node: int, count: int) -> list[_Entry]:
        """The table of a node whose URLs all changed: no need to look below it."""
        # One wildcard covers them for free; under a cap, sending them all
        # exactly is the only other choice worth keeping.
        table: list[_Entry] = []
        if self.cap is not None and count <= self.budget:
            table.append((0, count, self.key(0, count, 0), None))
        if self.cap != 0:
            table.append((self.one, 1, self.key(0, 1, 1), node))
        self.collateral[node] = 0
        return table

    def _merged(self, node: int, tables: dict[int, list[_Entry]]) -> list[_Entry]:
        """The table of a node from its children's tables (which it consumes)."""
        children = self.trie.children[node]
        wildcard: _Entry | None = None
        if self.cap != 0:
            wildcard = (self.one, 1, self.key(self.collateral[node], 1, 1), node)
        if self.trie.own[node]:
            acc: list[_Entry] = [(0, 1, self.key(0, 1, 0), None)]
            rest = children
        else:
            acc = tables.pop(children[0])
            rest = children[1:]
        for position, child in enumerate(rest):
            last = position == len(rest) - 1
            acc = self.combine(acc, tables.pop(child), wildcard if last else None)
        if not rest and wildcard is not None:
            acc = self.alone(acc, wildcard)
        return acc

    def frontier(self) -> list[_Entry]:
        """The root's Pareto set: the best covers for every budget up to ours."""
        tables: dict[int, list[_Entry]] = {}
        order: list[int] = []
        pending = [self.trie.root]
        while pending:
            node = pending.pop()
            order.append(node)
            count, unchanged = self.below(node)
            if count == 1:
                tables[node] = [(0, 1, self.key(0, 1, 0), None)]
            elif unchanged == 0:
                tables[node] = self._settled(node, count)
            else:
                self.collateral[node] = unchanged
                pending.extend(self.trie.children[node])
        for node in reversed(order):
            if node not in tables:
                tables[node] = self._merged(node, tables)
        return tables[self.trie.root]

    def solve(self) -> _Sol:
        """Return the best cover within the budget, or raise if there is none."""
        within = [
            entry
            for entry in self.frontier()
            if entry[1] <= self.budget and (self.cap is None or entry[0] <= self.cap)
        ]
        if not within:  # pragma: no cover - optimal_cover checks feasibility first
            msg = f"no cover within max_paths={self.budget}, max_wildcards={self.cap}"
            raise ValueError(msg)
        return min(within, key=lambda entry: entry[2])[3]


def _wildcard_nodes(how: _Sol) -> list[int]:
    nodes: list[int] = []
    pending = [how]
    while pending:
        item = pending.pop()
        if isinstance(item, int):
            nodes.append(item)
        elif item is not None:
            pending.extend(item)
    return nodes


def _written(prefix: str, everything: list[str]) -> str:
    """
    The prefix to write for a wildcard at ``prefix``: one that starts the same site URLs.

    The longest such prefix that ends at a ``/``, else ``prefix`` itself.
    """
    lo, hi = _count_under(everything, prefix)
    shortest = 1
    if lo > 0:
        shortest = max(shortest, _lcp(prefix, everything[lo - 1]) + 1)
    if hi < len(everything):
        shortest = max(shortest, _lcp(prefix, everything[hi]) + 1)
    slash = prefix.rfind("/", shortest - 1)
    return prefix[: slash + 1] if slash >= 0 else prefix


def optimal_cover(
    changed: Iterable[str],
    tree: Iterable[str],
    *,
    max_paths: int | None,
    max_wildcards: int | None = None,
    index_document: str | None = None,
) -> Cover:
    """
    Choose the paths that cover a deploy with the least collateral, within a budget.

    Every changed URL is covered, sent exactly or matched by a wildcard; at
    most ``max_paths`` paths are sent, at most ``max_wildcards`` of them
    wildcards; and the fewest unchanged URLs of the site are matched by a
    wildcard.  Ties go to fewer paths, then fewer wildcards, then a fixed order.
    The result is exact (see the module docstring for the program and its cost).

    >>> cover = optimal_cover(
    ...     ["/a/1.html", "/a/2.html", "/b.css"],
    ...     ["/a/1.html", "/a/2.html", "/a/3.html", "/b.css", "/c.js"],
    ...     max_paths=2,
    ... )
    >>> cover.paths, cover.collateral
    (('/a/*', '/b.css'), 1)

    Args:
        changed: The URLs the deploy added, modified or deleted, encoded (as
            `normalize_path` returns them), without wildcards.
        tree: Every URL the site serves after the deploy, encoded; deleted URLs
            are in ``changed`` only.
        max_paths: At most this many billable paths; None sends every changed
            URL exactly (no collapse at all).
        max_wildcards: At most this many of them wildcards; None for no limit.
            CloudFront keeps at most 15 wildcard paths in progress at a time.
        index_document: The name a directory URL serves (``"index.html"``):
            then ``/a/index.html`` is also served as ``/a/`` (and
            ``/index.html`` as ``/``), and a changed index document makes its
            directory URL changed too.

    Returns:
        The cover; an empty one when nothing changed.

    Raises:
        ValueError: The budget admits no cover (``max_paths`` below 1 with
            changes, or ``max_wildcards=0`` with more changed URLs than
            ``max_paths``), a budget is negative, a path is not an encoded path
            (or a changed one holds ``*``), or ``index_document`` is not a plain
            encoded file name.
        TypeError: A path or budget has the wrong type.
    """
    changed_urls, site_urls = _universe(changed, tree, max_paths, max_wildcards, index_document)
    if not changed_urls:
        return Cover(paths=(), billable=0, wildcards=0, collateral=0, covered={})
    if max_paths is None:
        paths = tuple(sorted(changed_urls))
        return Cover(paths=paths, billable=len(paths), wildcards=0, collateral=0, covered={})
    return _solve(changed_urls, site_urls, max_paths, max_wildcards)


def _universe(
    changed: Iterable[str],
    tree: Iterable[str],
    max_paths: int | None,
    max_wildcards: int | None,
    index_document: str | None,
) -> tuple[set[str], set[str]]:
    """Check the arguments; return the changed URLs and the site's URLs, aliases included."""
    check_budget(max_paths, "max_paths")
    check_budget(max_wildcards, "max_wildcards")
    changed_urls = _checked_paths(changed, "changed", wildcards_allowed=False)
    site_urls = _checked_paths(tree, "tree", wildcards_allowed=True)
    if index_document is not None:
        if (
            first_non_str([index_document]) is not None
            or not index_document
            or not index_document.isascii()
            or any(ch in index_document for ch in "/*")
        ):
            msg = (
                f"index_document={index_document!r} must be a plain, encoded file name "
                "such as 'index.html' (no '/' or '*')"
            )
            raise ValueError(msg)
        changed_urls |= _aliases(changed_urls, index_document)
        site_urls |= _aliases(site_urls, index_document)
    count = len(changed_urls)
    if not count or max_paths is None:
        return changed_urls, site_urls
    if max_paths < 1:
        msg = f"max_paths={max_paths} cannot cover {count} changed URLs: allow at least 1 path"
        raise ValueError(msg)
    if max_wildcards == 0 and count > max_paths:
        msg = (
            f"max_wildcards=0 sends only exact paths, and the {count} changed URLs (index "
            f"aliases included) exceed max_paths={max_paths}: raise max_paths to {count} "
            "or allow a wildcard"
        )
        raise ValueError(msg)
    return changed_urls, site_urls


def least_collateral(
    changed: Iterable[str],
    tree: Iterable[str],
    *,
    max_paths: int,
    max_wildcards: int | None = None,
    index_document: str | None = None,
) -> tuple[int, ...]:
    """
    The least collateral of a deploy for every budget from 1 to ``max_paths``, in one run.

    Element ``k - 1`` is ``optimal_cover(..., max_paths=k).collateral``; a budget
    policy (the smallest budget within some factor of a large one, or the least
    ``price_per_path * billable + price_per_object * collateral``) reads it
    instead of solving once per budget.

    >>> least_collateral(["/a/1", "/a/2", "/b"], ["/a/1", "/a/2", "/a/3", "/b"], max_paths=3)
    (1, 1, 0)

    Args:
        changed: As for `optimal_cover`.
        tree: As for `optimal_cover`.
        max_paths: The largest budget to report, at least 1.
        max_wildcards: As for `optimal_cover`.
        index_document: As for `optimal_cover`.

    Returns:
        One collateral per budget; budgets that admit no cover (only under
        ``max_wildcards``) are left out from the start, so the tuple may be shorter.
        All zeros when nothing changed.

    Raises:
        ValueError: As for `optimal_cover`.
        TypeError: As for `optimal_cover`.
    """
    changed_urls, site_urls = _universe(changed, tree, max_paths, max_wildcards, index_document)
    if not changed_urls:
        return (0,) * max_paths
    _tokens, solver, _trie = _solver(changed_urls, site_urls, max_paths, max_wildcards)
    best: dict[int, int] = {}
    for wildcards, billable, key, _how in solver.frontier():
        if solver.cap is None or wildcards <= solver.cap:
            best[billable] = min(best.get(billable, key), key)
    curve: list[int] = []
    running: int | None = None
    for budget in range(1, max_paths + 1):
        found = best.get(min(budget, solver.budget))
        if found is not None and (running is None or found < running):
            running = found
        if running is not None:
            curve.append(running // solver.m2)
    return tuple(curve)


def _solver(
    changed_urls: set[str], site_urls: set[str], max_paths: int, max_wildcards: int | None
) -> tuple[_Tokens, _Solver, _Trie]:
    tokens = _Tokens()
    changed = sorted(tokens.encode(url) for url in changed_urls)
    unchanged = sorted(tokens.encode(url) for url in site_urls - changed_urls)
    budget = min(max_paths, len(changed))
    cap = None if max_wildcards is None or max_wildcards >= len(changed) else max_wildcards
    trie = _Trie(changed)
    return tokens, _Solver(trie, changed, unchanged, budget, cap), trie


def _solve(
    changed_urls: set[str], site_urls: set[str], max_paths: int, max_wildcards: int | None
) -> Cover:
    tokens, solver, trie = _solver(changed_urls, site_urls, max_paths, max_wildcards)
    changed, unchanged = solver.changed, solver.unchanged
    nodes = sorted(_wildcard_nodes(solver.solve()), key=trie.text.__getitem__)
    everything = sorted([*changed, *unchanged])
    sent: list[str] = []
    covered: dict[str, tuple[str, ...]] = {}
    collateral = 0
    taken = [False] * len(changed)
    for node in nodes:
        prefix = trie.text[node]
        lo, hi = _count_under(changed, prefix)
        for index in range(lo, hi):
            taken[index] = True
        wildcard = tokens.decode(_written(prefix, everything)) + "*"
        sent.append(wildcard)
        covered[wildcard] = tuple(sorted(tokens.decode(url) for url in changed[lo:hi]))
        collateral += solver.collateral[node]
    sent.extend(tokens.decode(url) for url, done in zip(changed, taken, strict=True) if not done)
    return Cover(
        paths=tuple(sorted(sent)),
        billable=len(sent),
        wildcards=len(nodes),
        collateral=collateral,
        covered=dict(sorted(covered.items())),
    )
