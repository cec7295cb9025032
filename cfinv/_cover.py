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

Wildcards given.  A deploy may ask for wildcards of its own (``/img/*``): each
must be sent as it is or inside a wider wildcard, and what it matches is
invalidated anyway.  So the URLs it matches leave the problem, and its prefix
joins the trie as a leaf that only a wildcard covers: itself (one path, one
wildcard, no collateral) or one above it.

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

The limits.  A sub-cover is only worth keeping if the rest of the site can
still be covered within the budget.  Where a node's sub-cover is used no
wildcard above it is, so the changed URLs outside it are covered inside the
subtrees around it (its siblings, its ancestors' siblings and their own URLs),
each wildcard inside one of them, where it saves at most that subtree's
changed URLs less one path.  So with ``k`` wildcards left for the outside, the
outside needs at least its changed URLs less the ``k`` best savings, and a
sub-cover of ``w`` wildcards may use only the budget that leaves (``k = W -
w``; without a cap, every saving).  Each merge keeps only the sums within
these limits, and visits only those: on sites where most subtrees hold changed
and unchanged URLs alike it cuts the work five- to sevenfold, and the result
is the same (an entry beyond the limits is in no cover within the budget).

Complexity.  With ``n`` changed URLs (index aliases included), ``m`` site URLs,
budget ``B`` and wildcard cap ``W``: building the trie and counting collateral
(binary search in the sorted URLs) is ``O((n + m) log m)`` string operations.
A node's Pareto set has at most ``min(B, c) + 1`` entries per wildcard count
(``c`` = changed URLs below it) and at most ``min(W, c / 2) + 1`` wildcard
counts, so merging is ``O(n B)`` in all without a cap (the tree-knapsack bound:
a merge of sets of sizes ``min(B, a)`` and ``min(B, b)`` is paid for by the
``a + b`` URLs below it) and ``O(n B W^2)`` with one, in the worst case; the
limits cost ``O(W log W)`` per merge.  Measured on a two-core machine
(``tests/benchmarks/bench_cover_scale.py``: random sites of 13,000 paths, up
to 18,000 URLs with index aliases, 5 to 95 % changed): under half a second for
any budget up to 100 with ``W = 15``, or for the cheapest of all those budgets
(`cheapest_cover`); on the real deploys of ``tests/benchmarks/bench_collapse.py``
(up to 6,500 changed paths) less than that.
"""

from __future__ import annotations

import bisect
import heapq
import re
from itertools import accumulate
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeAlias

import attrs

from cfinv.models import first_non_str

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "Cover",
    "cheapest_cover",
    "check_budget",
    "check_index_document",
    "least_collateral",
    "optimal_cover",
]

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
    found = first_non_str(result)
    if found is not None:
        (wrong,) = found
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


def check_index_document(index: object) -> None:
    """``index_document`` is a plain, encoded file name (``index.html``); else a named error."""
    if not isinstance(index, str):
        msg = f"index_document must be a file name (str), got {index!r} ({type(index).__name__})"
        raise TypeError(msg)
    if not index or not index.isascii() or any(ch in index for ch in "/*"):
        msg = (
            f"index_document={index!r} must be a plain, encoded file name such as "
            "'index.html' (no '/' or '*')"
        )
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
    cells: Iterable[tuple[int, int, int, int]], width: int
) -> list[tuple[int, int, int, int]]:
    """
    The entries among ``cells`` that no other entry dominates.

    ``cells`` holds ``(wildcards, billable, key, ref)`` in ``(wildcards,
    billable)`` order, with ``billable < width`` and the best key first where
    a pair repeats.  An entry survives if its key beats every entry with at
    most as many wildcards and billable paths.  The work is linear in the
    cells, plus ``width`` per row that has survivors.
    """
    out: list[tuple[int, int, int, int]] = []
    below = [_INF] * width  # the best key of the rows before, with at most b paths
    fresh: list[tuple[int, int]] = []  # this row's survivors, (paths, key)
    row = -1
    run = _INF  # the best key of this row so far (fewer paths)
    for w, b, key, ref in cells:
        if w != row:
            _lower(below, fresh)
            fresh = []
            row = w
            run = _INF
        if key < run and key < below[b]:
            out.append((w, b, key, ref))
            fresh.append((b, key))
            run = key
    return out


def _lower(below: list[int], fresh: list[tuple[int, int]]) -> None:
    """Fold one row's survivors (paths up, keys down) into ``below``."""
    width = len(below)
    for start, key in fresh:
        b = start
        while b < width and below[b] > key:
            below[b] = key
            b += 1


def _sums(
    a: list[_Entry], b: list[_Entry], limits: list[int], width: int
) -> tuple[list[int], list[int]]:
    """
    The best sum of an entry of ``a`` and one of ``b`` for each (wildcards, paths).

    Only sums of ``w`` wildcards and at most ``limits[w]`` paths (and fewer
    than ``width``) count.  Returns ``grid`` and ``pair``: ``grid[w * width +
    p]`` is the least key of the sums of ``w`` wildcards and ``p`` paths
    (``_INF`` if none) and ``pair`` the ``i * len(b) + j`` of the first pair
    that makes it.  The outer loop runs over the smaller side; the inner one
    over the other side's entries by wildcards, fewest paths first, and stops
    at the first sum over the limit: only sums that fit are visited.
    """
    rows = len(limits)
    size = rows * width
    grid = [_INF] * size
    pair = [0] * size
    ends = [min(limit + 1, width) for limit in limits]
    swap = len(a) > len(b)
    outer, inner = (b, a) if swap else (a, b)
    stride = len(b)
    groups: list[list[tuple[int, int, int]]] = [[] for _ in range(rows)]
    for j, (w2, b2, k2, _h2) in enumerate(inner):
        if w2 < rows and b2 < width:
            groups[w2].append((b2, k2, j * stride if swap else j))
    for group in groups:
        group.sort()
    for i, (w1, b1, k1, _h1) in enumerate(outer):
        tag = i if swap else i * stride
        for w2 in range(rows - w1):
            w = w1 + w2
            room = ends[w] - b1
            base = w * width + b1
            for b2, k2, j in groups[w2]:
                if b2 >= room:
                    break
                key = k1 + k2
                cell = base + b2
                best = grid[cell]
                # Equal keys go to the first entry of a, then of b, either way round.
                if key < best or (key == best and tag + j < pair[cell]):
                    grid[cell] = key
                    pair[cell] = tag + j
    return grid, pair


# Above every key: collateral, paths and wildcards stay far below 2**20 each.
_INF = 1 << 62


class _Solver:
    """The dynamic program over the trie, for one deploy and one budget."""

    def __init__(
        self,
        trie: _Trie,
        changed: list[str],
        unchanged: list[str],
        *,
        budget: int,
        wildcard_cap: int | None,
        pins: list[str],
    ) -> None:
        self.trie = trie
        # The given wildcards' prefixes (sorted): leaves that only a wildcard
        # covers, themselves or a wider one.
        self.pins = pins
        self.pins_set = set(pins)
        self.changed = changed
        self.unchanged = unchanged
        self.budget = budget
        self.cap = wildcard_cap
        # key = collateral * m2 + billable * m1 + wildcards: sums stay exact
        # because billable and wildcards never exceed len(changed).
        self.m1 = len(changed) + 1
        self.m2 = self.m1 * self.m1
        self.collateral: dict[int, int] = {}
        # What lies outside each node, for the limits of its sub-covers (see
        # `_limits`): (changed URLs, the largest paths a wildcard there could
        # save, up to the cap, best first; all such savings summed).
        self.outside: dict[int, tuple[int, list[int], int]] = {trie.root: (0, [], 0)}
        self.counts: dict[int, tuple[int, int]] = {}
        # The wildcard dimension of one wildcard: none without a cap.
        self.one = 0 if wildcard_cap is None else 1

    def key(self, collateral: int, billable: int, wildcards: int) -> int:
        return collateral * self.m2 + billable * self.m1 + wildcards

    def combine(
        self, a: list[_Entry], b: list[_Entry], extra: _Entry | None, limits: list[int]
    ) -> list[_Entry]:
        """
        The Pareto set of every sum of an entry of ``a`` and one of ``b`` (and ``extra``).

        Only entries of ``w`` wildcards and at most ``limits[w]`` paths are
        kept: the rest of the site needs the paths the others would take.
        """
        rows = sum(1 for limit in limits if limit >= 1)  # limits never grow with w
        if not rows:
            return []
        if extra is not None and (extra[0] >= rows or extra[1] > limits[extra[0]]):
            extra = None
        if not a or not b:  # one side needs more paths than the budget: only extra is left
            return [extra] if extra is not None else []
        if len(a) == 1 or len(b) == 1:  # a shift keeps the other side's Pareto set
            return self._shifted(a, b, extra, limits[:rows])
        rows = min(rows - 1, max(e[0] for e in a) + max(e[0] for e in b) + (extra is not None))
        width = min(limits[0], max(e[1] for e in a) + max(e[1] for e in b)) + 1
        grid, pair = _sums(a, b, limits[: rows + 1], width)
        stride = len(b)
        if extra is not None and extra[0] <= rows and extra[1] < width:
            cell = extra[0] * width + extra[1]
            if extra[2] < grid[cell]:
                grid[cell] = extra[2]
                pair[cell] = -1

        inf = _INF
        cells = [
            (cell // width, cell % width, grid[cell], pair[cell])
            for cell in range(len(grid))
            if grid[cell] < inf
        ]
        last = extra[3] if extra is not None else None
        return [
            (w, bill, key, last if made < 0 else _join(a[made // stride][3], b[made % stride][3]))
            for w, bill, key, made in _pareto(cells, width)
        ]

    def _shifted(
        self, a: list[_Entry], b: list[_Entry], extra: _Entry | None, limits: list[int]
    ) -> list[_Entry]:
        """`combine` where one side holds a single entry (``limits`` cut to the rows)."""
        rows = len(limits)
        if len(a) == 1:
            w1, b1, k1, h1 = a[0]
            out = [
                (w1 + w2, b1 + b2, k1 + k2, _join(h1, h2))
                for w2, b2, k2, h2 in b
                if w1 + w2 < rows and b1 + b2 <= limits[w1 + w2]
            ]
        else:
            w2, b2, k2, h2 = b[0]
            out = [
                (w1 + w2, b1 + b2, k1 + k2, _join(h1, h2))
                for w1, b1, k1, h1 in a
                if w1 + w2 < rows and b1 + b2 <= limits[w1 + w2]
            ]
        if extra is None:
            return out
        if not out:
            return [extra]
        return self.alone(out, extra)

    def alone(self, entries: list[_Entry], extra: _Entry) -> list[_Entry]:
        """The Pareto set of ``entries`` and ``extra``."""
        both = (*entries, extra)
        cells = sorted((w, b, key, index) for index, (w, b, key, _sol) in enumerate(both))
        width = max(entry[1] for entry in both) + 1
        return [(w, b, key, both[index][3]) for w, b, key, index in _pareto(cells, width)]

    def _best(self, first: list[int], second: list[int]) -> list[int]:
        """The largest savings of both lists, best first, as many as the cap allows."""
        if self.cap is None:
            return []
        return heapq.nlargest(self.cap, [*first, *second])

    def _limits(self, reach: int, spare: list[int], total: int) -> list[int]:
        """
        The most paths a sub-cover of ``w`` wildcards may use, for each ``w``.

        Where a sub-cover is used, no wildcard above it is, so the ``reach``
        changed URLs outside it are covered within the subtrees around it,
        each wildcard there inside one of them: a wildcard saves at most the
        changed URLs of its subtree less one (``spare``, best first; ``total``
        all of them).  With ``k`` wildcards left to the outside it needs at
        least ``reach`` less the ``k`` best savings paths, and the budget is
        what remains.
        """
        if self.cap is None:
            return [self.budget - reach + total]
        saved = [0, *accumulate(spare)]
        return [
            self.budget - reach + saved[min(self.cap - w, len(spare))] for w in range(self.cap + 1)
        ]

    def _look_outside(self, node: int, count: int, children: list[int]) -> None:
        """Count the children's URLs and say what lies outside each of them."""
        reach, spare, total = self.outside[node]
        counts = [self.below(child) for child in children]
        savings = [changed - 1 for changed, _unchanged in counts]
        everything = sum(savings)
        top = heapq.nlargest(self.cap + 1, savings) if self.cap is not None else []
        for child, found, saving in zip(children, counts, savings, strict=True):
            self.counts[child] = found
            others = list(top)
            if saving in others:
                others.remove(saving)
            self.outside[child] = (
                reach + count - found[0],
                self._best(spare, others),
                total + everything - saving,
            )

    def below(self, node: int) -> tuple[int, int]:
        """How many changed URLs and unchanged URLs start with the node's prefix."""
        text = self.trie.text[node]
        lo, hi = _count_under(self.changed, text)
        ulo, uhi = _count_under(self.unchanged, text)
        return hi - lo, uhi - ulo

    def _leaf(self, node: int) -> list[_Entry]:
        """The table of one changed URL (sent exactly) or one given wildcard (sent)."""
        if self.trie.text[node] in self.pins_set:
            self.collateral[node] = 0
            return [(self.one, 1, self.key(0, 1, 1), node)] if self.cap != 0 else []
        return [(0, 1, self.key(0, 1, 0), None)]

    def _settled(self, node: int, count: int) -> list[_Entry]:
        """The table of a node whose URLs all changed: no need to look below it."""
        # One wildcard covers them for free; under a cap, sending them all
        # exactly is the only other choice worth keeping (not with a given
        # wildcard below: that needs a wildcard anyway, and one is enough).
        table: list[_Entry] = []
        lo, hi = _count_under(self.pins, self.trie.text[node])
        if self.cap is not None and count <= self.budget and lo == hi:
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
        # What lies outside the children merged so far: the node's outside and
        # the children still to come (their savings, best first, from the end).
        reach, spare, total = self.outside[node]
        later: list[tuple[int, list[int], int]] = [(0, [], 0)]
        for child in reversed(rest[1:]):
            count = self.counts[child][0]
            n, tops, saved = later[-1]
            later.append((n + count, self._best([count - 1], tops), saved + count - 1))
        later.reverse()
        for position, child in enumerate(rest):
            n, tops, saved = later[position]
            limits = self._limits(reach + n, self._best(spare, tops), total + saved)
            extra = wildcard if position == len(rest) - 1 else None
            acc = self.combine(acc, tables.pop(child), extra, limits)
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
            count, unchanged = self.counts.get(node) or self.below(node)
            if count == 1:
                tables[node] = self._leaf(node)
            elif unchanged == 0:
                tables[node] = self._settled(node, count)
            else:
                self.collateral[node] = unchanged
                children = self.trie.children[node]
                self._look_outside(node, count, children)
                pending.extend(children)
        for node in reversed(order):
            if node not in tables:
                tables[node] = self._merged(node, tables)
        return tables[self.trie.root]

    def within(self) -> list[_Entry]:
        """The root's entries within the budget and the wildcard cap."""
        cap = self.cap
        return [
            entry
            for entry in self.frontier()
            if entry[1] <= self.budget and (cap is None or entry[0] <= cap)
        ]

    def solve(self) -> _Sol:
        """Return the best cover within the budget, or raise if there is none."""
        within = self.within()
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
    wildcards: Iterable[str] = (),
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
        wildcards: Wildcards the deploy asks for besides (``/img/*``), encoded:
            each is sent as it is or inside a wider wildcard of the cover, and
            counts against both budgets like the others; what it matches is
            invalidated anyway, so it is no collateral.

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
    if max_paths is None:  # no collapse: everything as given
        changed_urls, _site, pinned = _universe(
            changed,
            tree,
            max_paths=None,
            max_wildcards=max_wildcards,
            index_document=index_document,
            wildcards=wildcards,
        )
        paths = tuple(sorted([*changed_urls, *(prefix + "*" for prefix in pinned)]))
        return Cover(
            paths=paths, billable=len(paths), wildcards=len(pinned), collateral=0, covered={}
        )
    program = _program(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        wildcards=wildcards,
    )
    if program is None:
        return Cover(paths=(), billable=0, wildcards=0, collateral=0, covered={})
    tokens, solver, trie = program
    return _cover_of(solver.solve(), tokens, solver, trie)


def _universe(
    changed: Iterable[str],
    tree: Iterable[str],
    *,
    max_paths: int | None,
    max_wildcards: int | None,
    index_document: str | None,
    wildcards: Iterable[str] = (),
) -> tuple[set[str], set[str], set[str]]:
    """
    Check the arguments; return the changed URLs, the site's URLs and the given wildcards.

    Index aliases are added; the given wildcards come back as their prefixes
    (without ``*``), and what they match is left out of the changed URLs and
    of the site's (it is invalidated anyway).
    """
    check_budget(max_paths, "max_paths")
    check_budget(max_wildcards, "max_wildcards")
    changed_urls = _checked_paths(changed, "changed", wildcards_allowed=False)
    site_urls = _checked_paths(tree, "tree", wildcards_allowed=True)
    pinned = _pinned(wildcards)
    if index_document is not None:
        check_index_document(index_document)
        changed_urls |= _aliases(changed_urls, index_document)
        site_urls |= _aliases(site_urls, index_document)
    if pinned:
        changed_urls = _outside(changed_urls, pinned)
        site_urls = _outside(site_urls, pinned)
    count = len(changed_urls)
    if not (count or pinned) or max_paths is None:
        return changed_urls, site_urls, pinned
    what = f"{count} changed URLs" + (f" and {len(pinned)} wildcards given" if pinned else "")
    if max_paths < 1:
        msg = f"max_paths={max_paths} cannot cover {what}: allow at least 1 path"
        raise ValueError(msg)
    if max_wildcards == 0 and pinned:
        msg = f"max_wildcards=0 cannot send the {len(pinned)} wildcards given: allow 1 at least"
        raise ValueError(msg)
    if max_wildcards == 0 and count > max_paths:
        msg = (
            f"max_wildcards=0 sends only exact paths, and the {count} changed URLs (index "
            f"aliases included) exceed max_paths={max_paths}: raise max_paths to {count} "
            "or allow a wildcard"
        )
        raise ValueError(msg)
    return changed_urls, site_urls, pinned


def _pinned(wildcards: Iterable[str]) -> set[str]:
    """The prefixes of the given wildcards, the narrower ones a wider one covers left out."""
    given = _checked_paths(wildcards, "wildcards", wildcards_allowed=True)
    prefixes = set()
    for wildcard in given:
        if not wildcard.endswith("*") or "*" in wildcard[:-1]:
            msg = f"wildcards holds {wildcard!r}: a wildcard ends in '*', and only there"
            raise ValueError(msg)
        prefixes.add(wildcard[:-1])
    widest: list[str] = []
    for prefix in sorted(prefixes):  # a prefix sorts right before what starts with it
        if not (widest and prefix.startswith(widest[-1])):
            widest.append(prefix)
    return set(widest)


def _outside(urls: set[str], prefixes: set[str]) -> set[str]:
    """The URLs that start with none of ``prefixes`` (none of which starts another)."""
    ordered = sorted(prefixes)
    kept = set()
    for url in urls:
        at = bisect.bisect_right(ordered, url)
        if not (at and url.startswith(ordered[at - 1])):
            kept.add(url)
    return kept


def least_collateral(
    changed: Iterable[str],
    tree: Iterable[str],
    *,
    max_paths: int,
    max_wildcards: int | None = None,
    index_document: str | None = None,
    wildcards: Iterable[str] = (),
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
        wildcards: As for `optimal_cover`.

    Returns:
        One collateral per budget; budgets that admit no cover (only under
        ``max_wildcards``) are left out from the start, so the tuple may be shorter.
        All zeros when nothing changed.

    Raises:
        ValueError: As for `optimal_cover`.
        TypeError: As for `optimal_cover`.
    """
    program = _program(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        wildcards=wildcards,
    )
    if program is None:
        return (0,) * max_paths
    _tokens, solver, _trie = program
    best: dict[int, int] = {}
    for _wildcards, billable, key, _how in solver.within():
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


def cheapest_cover(
    changed: Iterable[str],
    tree: Iterable[str],
    *,
    max_paths: int,
    price: Callable[[int, int], float],
    max_wildcards: int | None = None,
    index_document: str | None = None,
    wildcards: Iterable[str] = (),
) -> Cover:
    """
    The cover of least ``price(billable, collateral)`` within a budget, in one run.

    The same cover as solving `least_collateral` first and then `optimal_cover`
    at the cheapest budget (the fewest paths among equal prices), for the
    cost of one program: every budget's best cover is on the root's frontier.

    >>> cover = cheapest_cover(
    ...     ["/a/1", "/a/2", "/b"],
    ...     ["/a/1", "/a/2", "/a/3", "/b"],
    ...     max_paths=3,
    ...     price=lambda paths, collateral: 0.005 * paths + 0.02 * collateral,
    ... )
    >>> cover.paths, cover.collateral
    (('/a/1', '/a/2', '/b'), 0)

    Args:
        changed: As for `optimal_cover`.
        tree: As for `optimal_cover`.
        max_paths: The largest budget to consider, at least 1.
        price: What a cover of so many billable paths and so much collateral
            costs; the least wins.
        max_wildcards: As for `optimal_cover`.
        index_document: As for `optimal_cover`.
        wildcards: As for `optimal_cover`.

    Raises:
        ValueError: As for `optimal_cover`.
        TypeError: As for `optimal_cover`.
    """
    program = _program(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        wildcards=wildcards,
    )
    if program is None:
        return Cover(paths=(), billable=0, wildcards=0, collateral=0, covered={})
    tokens, solver, trie = program
    m2 = solver.m2
    best = min(
        solver.within(),
        key=lambda entry: (price(entry[1], entry[2] // m2), entry[1], entry[2]),
    )
    return _cover_of(best[3], tokens, solver, trie)


def _require_budget(max_paths: object) -> None:
    """A largest budget is needed here: optimal_cover's None (no collapse) has no program."""
    if max_paths is None:
        msg = "max_paths must be an int (the largest budget to consider), got None"
        raise TypeError(msg)


def _program(
    changed: Iterable[str],
    tree: Iterable[str],
    *,
    max_paths: int,
    max_wildcards: int | None,
    index_document: str | None,
    wildcards: Iterable[str],
) -> tuple[_Tokens, _Solver, _Trie] | None:
    """The checked arguments' program, or None when there is nothing to cover."""
    _require_budget(max_paths)
    changed_urls, site_urls, pinned = _universe(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        wildcards=wildcards,
    )
    if not (changed_urls or pinned):
        return None
    return _solver(changed_urls, site_urls, pinned, max_paths, max_wildcards)


def _solver(
    changed_urls: set[str],
    site_urls: set[str],
    pinned: set[str],
    max_paths: int,
    max_wildcards: int | None,
) -> tuple[_Tokens, _Solver, _Trie]:
    """The program for a deploy; the given wildcards are leaves of the trie too."""
    tokens = _Tokens()
    pins = sorted(tokens.encode(prefix) for prefix in pinned)
    changed = sorted([*(tokens.encode(url) for url in changed_urls), *pins])
    unchanged = sorted(tokens.encode(url) for url in site_urls - changed_urls)
    budget = min(max_paths, len(changed))
    cap = None if max_wildcards is None or max_wildcards >= len(changed) else max_wildcards
    trie = _Trie(changed)
    return (
        tokens,
        _Solver(trie, changed, unchanged, budget=budget, wildcard_cap=cap, pins=pins),
        trie,
    )


def _cover_of(how: _Sol, tokens: _Tokens, solver: _Solver, trie: _Trie) -> Cover:
    """The `Cover` that one entry of the program stands for."""
    changed, unchanged = solver.changed, solver.unchanged
    nodes = sorted(_wildcard_nodes(how), key=trie.text.__getitem__)
    everything = sorted([*changed, *unchanged])
    sent: list[str] = []
    covered: dict[str, tuple[str, ...]] = {}
    collateral = 0
    taken = [False] * len(changed)
    pinned = solver.pins_set
    for node in nodes:
        prefix = trie.text[node]
        lo, hi = _count_under(changed, prefix)
        for index in range(lo, hi):
            taken[index] = True
        # A wildcard given is sent as given; a wider one as it reads best.
        written = prefix if prefix in pinned else _written(prefix, everything)
        wildcard = tokens.decode(written) + "*"
        sent.append(wildcard)
        covered[wildcard] = tuple(
            sorted(tokens.decode(url) for url in changed[lo:hi] if url not in pinned)
        )
        collateral += solver.collateral[node]
    sent.extend(tokens.decode(url) for url, done in zip(changed, taken, strict=True) if not done)
    return Cover(
        paths=tuple(sorted(sent)),
        billable=len(sent),
        wildcards=len(nodes),
        collateral=collateral,
        covered=dict(sorted(covered.items())),
    )
