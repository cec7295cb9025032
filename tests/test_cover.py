"""Specs for the exact least-collateral wildcard cover (cfinv._cover.optimal_cover)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfinv._cover import Cover, cheapest_cover, least_collateral, optimal_cover
from cfinv.paths import normalize_path, path_problem

SITES = Path(__file__).parents[2] / "shared" / "sites"

# --- an independent checker -----------------------------------------------------


def aliases(urls: set[str], index_document: str | None) -> set[str]:
    if index_document is None:
        return set()
    suffix = "/" + index_document
    return {url[: -len(index_document)] for url in urls if url.endswith(suffix)}


def universe(
    changed: set[str], tree: set[str], index_document: str | None
) -> tuple[set[str], set[str]]:
    """The changed URLs and the unchanged URLs, index aliases included."""
    changed_urls = changed | aliases(changed, index_document)
    site = tree | aliases(tree, index_document) | changed_urls
    return changed_urls, site - changed_urls


def matches(path: str, url: str) -> bool:
    return url.startswith(path[:-1]) if path.endswith("*") else url == path


def check_cover(
    cover: Cover,
    changed: set[str],
    tree: set[str],
    *,
    max_paths: int | None,
    max_wildcards: int | None = None,
    index_document: str | None = None,
) -> None:
    """Assert that ``cover`` is a valid cover of the deploy, counted exactly."""
    changed_urls, unchanged = universe(changed, tree, index_document)
    wildcards = [path for path in cover.paths if path.endswith("*")]
    assert list(cover.paths) == sorted(set(cover.paths))
    assert len(cover.paths) == cover.billable
    assert len(wildcards) == cover.wildcards
    if max_paths is not None:
        assert cover.billable <= max_paths
    if max_wildcards is not None:
        assert cover.wildcards <= max_wildcards
    for url in changed_urls:
        assert any(matches(path, url) for path in cover.paths), url
    for path in cover.paths:
        assert path_problem(path) is None, path
        if not path.endswith("*"):
            assert path in changed_urls, path
    hit = {url for url in unchanged if any(matches(path, url) for path in wildcards)}
    assert len(hit) == cover.collateral
    assert set(cover.covered) == set(wildcards)
    for wildcard, urls in cover.covered.items():
        assert list(urls) == sorted(url for url in changed_urls if matches(wildcard, url))


# --- brute force ----------------------------------------------------------------


def brute_force(
    changed: set[str],
    tree: set[str],
    *,
    max_paths: int,
    max_wildcards: int | None,
    index_document: str | None,
    tokens: dict[str, list[str]],
) -> tuple[int, int, int] | None:
    """
    The least (collateral, billable, wildcards) over every cover within the budgets.

    Candidates are every prefix wildcard of every URL, cut between tokens (a
    ``%XX`` escape is one token) and told apart by the URLs they match; each
    subset of them within the budgets is completed by sending exactly the
    changed URLs it leaves uncovered, the cheapest way to complete it.
    """
    changed_urls, unchanged = universe(changed, tree, index_document)
    site = changed_urls | unchanged
    by_set: dict[frozenset[str], str] = {}
    for url in sorted(site):
        parts = tokens[url]
        for cut in range(1, len(parts) + 1):
            prefix = "".join(parts[:cut])
            matched = frozenset(u for u in site if u.startswith(prefix))
            by_set.setdefault(matched, prefix)
    candidates = [(matched, matched & changed_urls) for matched in by_set]
    cap = max_paths if max_wildcards is None else min(max_paths, max_wildcards)
    best: tuple[int, int, int] | None = None
    for size in range(cap + 1):
        for chosen in itertools.combinations(candidates, size):
            hit: set[str] = set()
            done: set[str] = set()
            for matched, changed_part in chosen:
                hit |= matched
                done |= changed_part
            billable = size + len(changed_urls - done)
            if billable > max_paths:
                continue
            score = (len(hit & unchanged), billable, size)
            if best is None or score < best:
                best = score
    return best


TOKENS = ["a", "b", "/", "%C3%A9", "index.html"]


@st.composite
def deploys(
    draw: st.DrawFn,
) -> tuple[set[str], set[str], dict[str, list[str]]]:
    """A small site, the URLs one deploy changed (some deleted), and each URL's tokens."""
    token_lists = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=4)
    served = draw(st.lists(token_lists, min_size=1, max_size=7))
    deleted = draw(st.lists(token_lists, max_size=2))
    tokens: dict[str, list[str]] = {}
    for parts in [*served, *deleted]:
        tokens["/" + "".join(parts)] = ["/", *parts]
    tree = {"/" + "".join(parts) for parts in served}
    gone = {"/" + "".join(parts) for parts in deleted} - tree
    modified = draw(st.sets(st.sampled_from(sorted(tree))))
    changed = modified | gone
    # The aliases' tokens: "/a/index.html" without its last token.
    for url, parts in list(tokens.items()):
        if parts[-1] == "index.html" and parts[-2] == "/":
            tokens[url[: -len("index.html")]] = parts[:-1]
    return changed, tree, tokens


@given(
    deploy=deploys(),
    max_paths=st.integers(1, 4),
    max_wildcards=st.none() | st.integers(0, 2),
    index_document=st.none() | st.just("index.html"),
)
def test_optimal_cover_equals_brute_force(
    deploy: tuple[set[str], set[str], dict[str, list[str]]],
    max_paths: int,
    max_wildcards: int | None,
    index_document: str | None,
) -> None:
    """On small sites the cover is as good as the best of every subset of candidate paths."""
    changed, tree, tokens = deploy
    expected = brute_force(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        tokens=tokens,
    )
    if expected is None:
        with pytest.raises(ValueError, match=r"max_wildcards=0"):
            optimal_cover(
                changed,
                tree,
                max_paths=max_paths,
                max_wildcards=max_wildcards,
                index_document=index_document,
            )
        return
    cover = optimal_cover(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
    )
    check_cover(
        cover,
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
    )
    assert expected == (cover.collateral, cover.billable, cover.wildcards)


@given(deploy=deploys(), max_paths=st.integers(1, 30), max_wildcards=st.none() | st.integers(1, 5))
def test_more_budget_never_costs_more_collateral(
    deploy: tuple[set[str], set[str], dict[str, list[str]]],
    max_paths: int,
    max_wildcards: int | None,
) -> None:
    """One more billable path or wildcard never raises the least collateral."""
    changed, tree, _tokens = deploy
    if not changed:
        return
    base = optimal_cover(changed, tree, max_paths=max_paths, max_wildcards=max_wildcards)
    more_paths = optimal_cover(changed, tree, max_paths=max_paths + 1, max_wildcards=max_wildcards)
    uncapped = optimal_cover(changed, tree, max_paths=max_paths)
    assert more_paths.collateral <= base.collateral
    assert uncapped.collateral <= base.collateral


@given(deploy=deploys(), max_wildcards=st.none() | st.integers(1, 3))
def test_least_collateral_is_the_collateral_of_each_budget(
    deploy: tuple[set[str], set[str], dict[str, list[str]]], max_wildcards: int | None
) -> None:
    """One run gives, for every budget, the collateral that optimal_cover finds for it."""
    changed, tree, _tokens = deploy
    curve = least_collateral(
        changed, tree, max_paths=8, max_wildcards=max_wildcards, index_document="index.html"
    )
    expected = [
        optimal_cover(
            changed, tree, max_paths=k, max_wildcards=max_wildcards, index_document="index.html"
        ).collateral
        for k in range(1, 9)
    ]
    assert expected == list(curve)


# --- an unpruned program, for sites too large for brute force --------------------


Table = dict[tuple[int, int], int]  # (wildcards, paths) -> least collateral


def plain_sum(left: Table, right: Table, cap: int, max_paths: int) -> Table:
    """Every choice of one side with every choice of the other, within the budgets."""
    merged: Table = {}
    for (w1, b1), c1 in left.items():
        for (w2, b2), c2 in right.items():
            cell = (w1 + w2, b1 + b2)
            if cell[0] <= cap and cell[1] <= max_paths:
                merged[cell] = min(merged.get(cell, c1 + c2), c1 + c2)
    return merged


def plain_program(
    changed: set[str],
    tree: set[str],
    *,
    max_paths: int,
    max_wildcards: int | None,
    index_document: str | None,
    tokens: dict[str, list[str]],
    pins: frozenset[str] = frozenset(),
) -> tuple[int, int, int]:
    """
    The least (collateral, billable, wildcards), by a program that prunes nothing.

    The candidates of `brute_force` form a laminar family (two prefixes match
    nested or disjoint sets); each keeps, for every (wildcards, paths), its
    least collateral: its direct changed URLs sent exactly, plus any choice
    for each largest candidate inside it, or itself as one wildcard.  Dicts,
    no bounds, no Pareto sets: slow and plain, unlike cfinv._cover.  A given
    wildcard's prefix (``pins``, widest only) is one more URL that is never
    sent exactly, and what it matches is left out.
    """
    changed_urls, unchanged = universe(changed, tree, index_document)
    changed_urls = {u for u in changed_urls if not u.startswith(tuple(pins))} | pins
    unchanged = {u for u in unchanged if not u.startswith(tuple(pins))}
    site = changed_urls | unchanged
    ordered = sorted(
        {
            frozenset(u for u in site if u.startswith("".join(tokens[url][:cut])))
            for url in site
            for cut in range(1, len(tokens[url]) + 1)
        },
        key=len,
    )
    cap = max_paths if max_wildcards is None else max_wildcards
    parent_of = {
        inner: next(outer for outer in ordered[i + 1 :] if inner < outer)
        for i, inner in enumerate(ordered)
        if any(inner < outer for outer in ordered[i + 1 :])
    }
    tables: dict[frozenset[str], Table] = {}
    for node in ordered:  # inner sets first
        children = [child for child, parent in parent_of.items() if parent == node]
        loose = (node & changed_urls).difference(*children)
        exact = len(loose) <= max_paths and not loose & pins
        table: Table = {(0, len(loose)): 0} if exact else {}
        for child in children:
            table = plain_sum(table, tables[child], cap, max_paths)
        if cap >= 1 and node & changed_urls:
            here = len(node & unchanged)
            table[(1, 1)] = min(table.get((1, 1), here), here)
        tables[node] = table
    total: Table = {(0, 0): 0}
    for root in (node for node in ordered if node not in parent_of):
        total = plain_sum(total, tables[root], cap, max_paths)
    return min((c, b, w) for (w, b), c in total.items())


@st.composite
def larger_deploys(
    draw: st.DrawFn,
) -> tuple[set[str], set[str], dict[str, list[str]], frozenset[str]]:
    """A site of up to 40 pages in up to three directory levels, one deploy, wildcards given."""
    names = st.sampled_from(["a", "b", "ab", "%C3%A9"])
    pages = st.sampled_from(["index.html", "p.html", "q.css", "r"])
    page = st.tuples(st.lists(names, min_size=0, max_size=3), pages)
    served = draw(st.lists(page, min_size=1, max_size=40))
    deleted = draw(st.lists(page, max_size=3))
    tokens: dict[str, list[str]] = {}
    urls: list[str] = []
    for dirs, name in [*served, *deleted]:
        parts = [token for d in dirs for token in (d, "/")] + [name]
        url = "/" + "".join(parts)
        tokens[url] = ["/", *parts]
        if name == "index.html":
            tokens[url[: -len(name)]] = ["/", *parts[:-1]]
        urls.append(url)
    tree = set(urls[: len(served)])
    gone = set(urls[len(served) :]) - tree
    modified = draw(st.sets(st.sampled_from(sorted(tree))))
    prefixes: set[str] = set()
    for url in draw(st.lists(st.sampled_from(urls), max_size=2)):
        cut = draw(st.integers(2, len(tokens[url])))
        prefix = "".join(tokens[url][:cut])
        tokens[prefix] = tokens[url][:cut]
        prefixes.add(prefix)
    # The widest only, as cfinv._cover keeps them (and the input's planner drops the others).
    pins = frozenset(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))
    return modified | gone, tree, tokens, pins


@settings(max_examples=300, deadline=None)
@given(
    deploy=larger_deploys(),
    max_paths=st.integers(1, 12),
    max_wildcards=st.none() | st.integers(1, 4),
    index_document=st.none() | st.just("index.html"),
)
def test_optimal_cover_equals_an_unpruned_program_on_larger_sites(
    deploy: tuple[set[str], set[str], dict[str, list[str]], frozenset[str]],
    max_paths: int,
    max_wildcards: int | None,
    index_document: str | None,
) -> None:
    """Sites of dozens of pages: the limits and shortcuts of the program lose no cover."""
    changed, tree, tokens, pins = deploy
    if not changed and not pins:
        return
    cover = optimal_cover(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        wildcards=[pin + "*" for pin in pins],
    )
    wildcards = [path for path in cover.paths if path.endswith("*")]
    for pin in pins:  # sent as given, or inside a wider wildcard
        assert pin + "*" in cover.paths or any(pin.startswith(w[:-1]) for w in wildcards)
    if not pins:
        check_cover(
            cover,
            changed,
            tree,
            max_paths=max_paths,
            max_wildcards=max_wildcards,
            index_document=index_document,
        )
    expected = plain_program(
        changed,
        tree,
        max_paths=max_paths,
        max_wildcards=max_wildcards,
        index_document=index_document,
        tokens=tokens,
        pins=pins,
    )
    assert expected == (cover.collateral, cover.billable, cover.wildcards)


@given(deploy=deploys(), per_object=st.sampled_from([0.0, 0.0005, 0.005, 0.05]))
def test_cheapest_cover_is_the_cheapest_budget_solved(
    deploy: tuple[set[str], set[str], dict[str, list[str]]], per_object: float
) -> None:
    """One run gives what solving every budget and taking the cheapest (fewest paths) gives."""
    changed, tree, _tokens = deploy
    if not changed:
        return

    def price(paths: int, collateral: int) -> float:
        return 0.005 * paths + per_object * collateral

    cover = cheapest_cover(
        changed, tree, max_paths=6, max_wildcards=2, index_document="index.html", price=price
    )
    by_budget = [
        optimal_cover(changed, tree, max_paths=k, max_wildcards=2, index_document="index.html")
        for k in range(1, 7)
    ]
    expected = min(by_budget, key=lambda c: (price(c.billable, c.collateral), c.billable))
    assert (cover.paths, cover.collateral) == (expected.paths, expected.collateral)


# --- the shapes of real deploys, committed --------------------------------------

BLOG_TREE = {
    "/index.html",
    "/index.xml",
    "/sitemap.xml",
    "/page/2/index.html",
    "/page/3/index.html",
    "/tags/index.html",
    "/tags/ml/index.html",
    "/tags/rl/index.html",
    "/posts/2023-01-10-agents/index.html",
    "/posts/2023-01-10-agents/fig1.png",
    "/posts/2023-06-01-diffusion/index.html",
    "/posts/2024-03-07-new/index.html",
    "/posts/2024-03-07-new/fig1.png",
    "/posts/2024-03-07-new/fig2.png",
    "/assets/css/stylesheet.abc.css",
}
#: One new post: its page and figures, the home page, a tag page, the feed and the sitemap.
BLOG_CHANGED = {
    "/index.html",
    "/index.xml",
    "/sitemap.xml",
    "/tags/ml/index.html",
    "/posts/2024-03-07-new/index.html",
    "/posts/2024-03-07-new/fig1.png",
    "/posts/2024-03-07-new/fig2.png",
}


def test_blog_post_deploy_gets_the_posts_wildcard() -> None:
    """A new post's URLs collapse into its directory's wildcard, touching no other post."""
    cover = optimal_cover(BLOG_CHANGED, BLOG_TREE, max_paths=5, index_document="index.html")
    check_cover(cover, BLOG_CHANGED, BLOG_TREE, max_paths=5, index_document="index.html")
    expected = ("/", "/index.*", "/posts/2024-03-07-new/*", "/sitemap.xml", "/tags/ml/*")
    assert expected == cover.paths
    assert 0 == cover.collateral
    roomy = optimal_cover(BLOG_CHANGED, BLOG_TREE, max_paths=50, index_document="index.html")
    assert expected == roomy.paths


def test_blog_post_deploy_below_its_knee_needs_everything() -> None:
    """Its five groups part at the root: with four paths only ``/*`` covers them."""
    cover = optimal_cover(BLOG_CHANGED, BLOG_TREE, max_paths=4, index_document="index.html")
    check_cover(cover, BLOG_CHANGED, BLOG_TREE, max_paths=4, index_document="index.html")
    assert ("/*",) == cover.paths
    assert 14 == cover.collateral  # every unchanged URL, the aliases of unchanged pages included


HASHED_TREE = {
    "/assets/js/app.9f8e.js",
    "/assets/js/app.9f8e.js.map",
    "/assets/js/vendor.1111.js",
    "/assets/js/runtime.2222.js",
    "/assets/css/main.3333.css",
    "/index.html",
}
#: A rebuilt bundle: the old chunk deleted, the new one added, the page that loads it.
HASHED_CHANGED = {
    "/assets/js/app.1a2b.js",
    "/assets/js/app.1a2b.js.map",
    "/assets/js/app.9f8e.js",
    "/assets/js/app.9f8e.js.map",
    "/index.html",
}


def test_hashed_bundle_wildcard_ends_inside_a_file_name() -> None:
    """Renamed chunks collapse into ``/assets/js/app.*``: no other chunk is thrown away."""
    cover = optimal_cover(HASHED_CHANGED, HASHED_TREE, max_paths=2)
    check_cover(cover, HASHED_CHANGED, HASHED_TREE, max_paths=2)
    assert ("/assets/js/app.*", "/index.html") == cover.paths
    assert 0 == cover.collateral
    assert {"/assets/js/app.*": tuple(sorted(HASHED_CHANGED - {"/index.html"}))} == dict(
        cover.covered
    )


def test_no_wildcard_ends_inside_a_percent_escape() -> None:
    """``/caf%C3%A9`` and ``/caf%C3%A8`` share ``%C3``, never ``%C3%A``: the wildcard pays."""
    tree = {normalize_path(p) for p in ("/café.html", "/cafè.html", "/cafñ.html", "/cafe.html")}
    changed = {normalize_path("/café.html"), normalize_path("/cafè.html")}
    cover = optimal_cover(changed, tree, max_paths=1)
    check_cover(cover, changed, tree, max_paths=1)
    assert ("/caf%C3*",) == cover.paths
    assert 1 == cover.collateral


def test_index_alias_counts_twice_sent_exactly_and_once_as_a_wildcard() -> None:
    """A changed ``/a/index.html`` is also ``/a/``: two exact paths, or one wildcard."""
    tree = {"/a/index.html", "/a/x.css", "/index.html", "/b.html"}
    changed = {"/a/index.html", "/index.html"}
    roomy = optimal_cover(changed, tree, max_paths=4, index_document="index.html")
    assert ("/", "/a/", "/a/index.html", "/index.html") == roomy.paths
    assert 0 == roomy.collateral
    tight = optimal_cover(changed, tree, max_paths=3, index_document="index.html")
    assert ("/", "/a/*", "/index.html") == tight.paths
    assert 1 == tight.collateral  # /a/x.css
    check_cover(tight, changed, tree, max_paths=3, index_document="index.html")


def test_unchanged_index_alias_is_collateral() -> None:
    """An unchanged ``/x/index.html`` under a wildcard costs its ``/x/`` as well."""
    tree = {"/d/a.html", "/d/b.html", "/d/x/index.html"}
    changed = {"/d/a.html", "/d/b.html"}
    with_alias = optimal_cover(changed, tree, max_paths=1, index_document="index.html")
    without = optimal_cover(changed, tree, max_paths=1)
    # The longest prefix that matches the same URLs is written: /d/*, not /*.
    assert ("/d/*",) == with_alias.paths == without.paths
    assert (2, 1) == (with_alias.collateral, without.collateral)


def test_free_wildcards_save_paths_when_the_budget_allows() -> None:
    """A directory that changed entirely is one wildcard, even when every path would fit."""
    tree = {"/a/1.html", "/a/2.html", "/a/3.html", "/b.html"}
    changed = {"/a/1.html", "/a/2.html", "/a/3.html"}
    assert ("/a/*",) == optimal_cover(changed, tree, max_paths=10).paths


def test_no_budget_sends_every_changed_url() -> None:
    """``max_paths=None`` collapses nothing: every changed URL, aliases included, exactly."""
    tree = {"/a/1.html", "/a/index.html"}
    changed = {"/a/1.html", "/a/index.html", "/gone.html"}
    cover = optimal_cover(changed, tree, max_paths=None, index_document="index.html")
    assert ("/a/", "/a/1.html", "/a/index.html", "/gone.html") == cover.paths
    assert (4, 0, 0) == (cover.billable, cover.wildcards, cover.collateral)


def test_nothing_changed_is_an_empty_cover() -> None:
    """No change needs no path, whatever the budget."""
    expected = Cover(paths=(), billable=0, wildcards=0, collateral=0, covered={})
    assert expected == optimal_cover([], ["/a.html"], max_paths=0, max_wildcards=0)


def test_wildcard_cap_is_respected() -> None:
    """Under a wildcard cap the cover trades wildcards for exact paths or collateral."""
    tree = {f"/{d}/{i}.html" for d in "abc" for i in range(3)} | {"/x.html"}
    changed = {f"/{d}/{i}.html" for d in "abc" for i in range(3)}
    free = optimal_cover(changed, tree, max_paths=3)
    assert ("/a/*", "/b/*", "/c/*") == free.paths
    capped = optimal_cover(changed, tree, max_paths=5, max_wildcards=1)
    check_cover(capped, changed, tree, max_paths=5, max_wildcards=1)
    assert ("/*",) == capped.paths  # two directories' six files do not fit in four exact paths
    assert 1 == capped.collateral
    roomy = optimal_cover(changed, tree, max_paths=7, max_wildcards=1)
    check_cover(roomy, changed, tree, max_paths=7, max_wildcards=1)
    assert (0, 1) == (roomy.collateral, roomy.wildcards)


# --- errors ---------------------------------------------------------------------


def test_no_paths_for_a_change_is_infeasible() -> None:
    """``max_paths=0`` cannot cover a change; the message names the numbers."""
    with pytest.raises(ValueError, match=r"max_paths=0 cannot cover 2 changed URLs"):
        optimal_cover(["/a", "/b"], ["/a"], max_paths=0)


def test_exact_paths_only_must_fit_the_budget() -> None:
    """``max_wildcards=0`` with more changed URLs (aliases included) than paths is infeasible."""
    with pytest.raises(ValueError, match=r"max_wildcards=0 .* the 3 changed URLs .* max_paths=2"):
        optimal_cover(
            ["/a/index.html", "/b"],
            ["/a/index.html"],
            max_paths=2,
            max_wildcards=0,
            index_document="index.html",
        )


@pytest.mark.parametrize(
    ("max_paths", "max_wildcards", "message"),
    [
        (-1, None, r"max_paths=-1 is negative"),
        (3, -2, r"max_wildcards=-2 is negative"),
    ],
)
def test_negative_budgets_are_refused(
    max_paths: int, max_wildcards: int | None, message: str
) -> None:
    """A negative budget is refused, named in the message."""
    with pytest.raises(ValueError, match=message):
        optimal_cover(["/a"], ["/a"], max_paths=max_paths, max_wildcards=max_wildcards)


@pytest.mark.parametrize(
    ("changed", "tree", "message"),
    [
        (["/a/*"], ["/a/b"], r"changed holds '/a/\*'"),
        (["a.html"], ["/a.html"], r"changed holds 'a.html', which is not an encoded path"),
        (["/a.html"], ["/café.html"], r"tree holds '/café.html', which is not an encoded path"),
    ],
)
def test_paths_must_be_encoded_urls(changed: list[str], tree: list[str], message: str) -> None:
    """Paths that are not encoded URLs are refused by name."""
    with pytest.raises(ValueError, match=message):
        optimal_cover(changed, tree, max_paths=5)


def test_a_none_among_the_paths_is_named() -> None:
    """None is not a path, wherever it is given."""
    for kwargs in (
        {"changed": [None], "tree": ["/a"]},
        {"changed": ["/a"], "tree": [None]},
        {"changed": ["/a"], "tree": ["/a"], "wildcards": [None]},
    ):
        with pytest.raises(TypeError, match=r"holds None \(NoneType\); paths are str"):
            optimal_cover(**kwargs, max_paths=1)  # type: ignore[arg-type]


def test_the_largest_budget_is_required_where_there_is_no_default() -> None:
    """least_collateral and cheapest_cover need a number of paths to go up to."""
    with pytest.raises(TypeError, match="max_paths must be an int"):
        least_collateral(["/a"], ["/a"], max_paths=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_paths must be an int"):
        cheapest_cover(["/a"], ["/a"], max_paths=None, price=lambda p, c: p + c)  # type: ignore[arg-type]


def test_index_document_must_be_a_file_name() -> None:
    """An index document with a '/' is refused by name."""
    with pytest.raises(ValueError, match=r"index_document='a/index.html'"):
        optimal_cover(["/a"], ["/a"], max_paths=5, index_document="a/index.html")


def test_cover_checks_its_counts() -> None:
    """A Cover whose counts disagree with its paths cannot be built."""
    with pytest.raises(ValueError, match=r"1 paths with 1 wildcards cannot claim billable=2"):
        Cover(paths=("/a*",), billable=2, wildcards=1, collateral=0, covered={})


# --- the real deploys (skipped where ../shared/sites is absent, as in CI) --------

REAL = [("lilianweng", 2), ("kaitai-formats", 1), ("cozy-docs", 3), ("react-bootstrap", 7)]


def read_deploy(site: str, number: int) -> tuple[set[str], set[str]]:
    def read(kind: str) -> set[str]:
        text = (SITES / site / f"{number}.{kind}.txt").read_text(encoding="utf-8")
        return {normalize_path(line) for line in text.splitlines() if line}

    return read("changed"), read("tree")


@pytest.mark.skipif(not SITES.is_dir(), reason=f"the real deploys are not at {SITES}")
@pytest.mark.parametrize(("site", "number"), REAL)
@pytest.mark.parametrize("max_paths", [15, 50])
def test_real_deploys_get_valid_covers_within_budget(
    site: str, number: int, max_paths: int
) -> None:
    """Real deploys get valid covers, within budget, better than ``/*``, with and without a cap."""
    changed, tree = read_deploy(site, number)
    cover = optimal_cover(changed, tree, max_paths=max_paths, index_document="index.html")
    check_cover(cover, changed, tree, max_paths=max_paths, index_document="index.html")
    capped = optimal_cover(
        changed, tree, max_paths=max_paths, max_wildcards=5, index_document="index.html"
    )
    check_cover(
        capped, changed, tree, max_paths=max_paths, max_wildcards=5, index_document="index.html"
    )
    _changed_urls, unchanged = universe(changed, tree, "index.html")
    assert cover.collateral <= capped.collateral <= len(unchanged)
    assert cover.collateral < len(unchanged)
