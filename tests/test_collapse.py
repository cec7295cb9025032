"""
Spending less: the planner collapses a change into wildcards within a budget, given the tree.

The optimum itself is `cfinv._cover`'s (tests/test_cover.py checks it
against brute force); these are the planner's, the Invalidator's and the
command's ends of it, with real HTTP to the emulator.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfinv import Invalidator, Runtime, plan_paths
from cfinv.paths import DEFAULT_BUDGET_LIMIT, DEFAULT_MAX_WILDCARDS, covers
from cfinv.testing import CloudFrontEmulator, VirtualClock
from tests.cli_support import run

if TYPE_CHECKING:
    from pathlib import Path

TREE = [
    "/index.html",
    "/about/index.html",
    *(f"/blog/post-{n}/index.html" for n in range(30)),
    *(f"/assets/app.{n}.js" for n in range(8)),
    "/assets/site.css",
    "/feed.xml",
]
CHANGED = [
    *(f"/blog/post-{n}/index.html" for n in range(24)),
    "/index.html",
    "/feed.xml",
    "/assets/app.3.js",
    "/assets/app.old.js",  # deleted: not in the tree, still cached
]


def _sent(plan: object) -> list[str]:
    return [p for batch in plan.batches for p in batch.items]  # type: ignore[attr-defined]


def test_a_budget_collapses_the_change_at_the_least_collateral() -> None:
    """Five paths for 28 changed ones: every change covered, collateral counted exactly."""
    plan = plan_paths(CHANGED, tree=TREE, max_paths=5)
    sent = _sent(plan)
    assert plan.billable == len(sent) <= 5
    for path in CHANGED:
        assert any(p == path or (p.endswith("*") and covers(p, path)) for p in sent), path
    unchanged = set(TREE) - set(CHANGED)
    wildcards = [p for p in sent if p.endswith("*")]
    assert plan.wildcards == len(wildcards)
    assert plan.collateral == sum(1 for p in unchanged if any(covers(w, p) for w in wildcards))
    assert plan.collateral == 6  # the 6 unchanged posts under /blog/post-*: the best there is
    assert plan.collapsed == sum(len(v) for v in plan.covered.values())
    assert plan.estimated_cost() == 0.0  # within the free 1,000 a month
    assert plan.estimated_cost(paths_already_this_month=1000) == pytest.approx(5 * 0.005)


def test_every_input_path_is_accounted_for() -> None:
    """Each changed path is sent, or listed under the wildcard that covers it."""
    plan = plan_paths([*CHANGED, "/feed.xml"], tree=TREE, max_paths=3)
    sent = set(_sent(plan))
    under = {p for paths in plan.covered.values() for p in paths}
    assert all(p in sent or p in under for p in CHANGED)
    assert plan.duplicates_dropped == 1


def test_index_aliases_are_covered_too() -> None:
    """With index_document, /a/ goes with /a/index.html: both billable as exact paths."""
    tree = [*TREE, "/about/team.html"]
    exact = plan_paths(["/about/index.html"], tree=tree, max_paths=10, index_document="index.html")
    assert _sent(exact) == ["/about/", "/about/index.html"]
    assert (exact.billable, exact.aliases_added, exact.collateral) == (2, 1, 0)
    one = plan_paths(["/about/index.html"], tree=tree, max_paths=1, index_document="index.html")
    assert _sent(one) == ["/about/*"]  # one wildcard covers both, counted once
    assert one.collateral == 1  # /about/team.html
    no_tree = plan_paths(["/about/index.html", "/index.html"], index_document="index.html")
    assert sorted(_sent(no_tree)) == ["/", "/about/", "/about/index.html", "/index.html"]
    assert no_tree.aliases_added == 2


def test_without_a_tree_a_budget_is_explained() -> None:
    """No tree, no collapse: a budget alone says a tree is needed to bound the collateral."""
    with pytest.raises(ValueError, match=r"max_paths=5.*needs the site's tree"):
        plan_paths(CHANGED, max_paths=5)
    plain = plan_paths(CHANGED)
    assert (plain.collapsed, plain.collateral) == (0, None)
    assert plain.billable == len(CHANGED)


def test_the_default_budget_prices_collateral() -> None:
    """A tree without max_paths: the budget with the least price, a needless object $0.0005."""
    tiny = plan_paths(CHANGED, tree=TREE)
    # A small site: /* ($0.005 + 15 objects at $0.0005) is the cheapest of all.
    assert (_sent(tiny), tiny.collateral) == (["/*"], 15)
    tree = [*TREE, *(f"/img/{n}.png" for n in range(500))]
    plan = plan_paths(CHANGED, tree=tree)
    # With 500 images too: /blog/* (6 unchanged posts) and /assets/app.* (7 unchanged
    # bundles, cheaper than a fifth path) and 2 exact paths: $0.02 + 13 x $0.0005.
    assert sorted(_sent(plan)) == ["/assets/app.*", "/blog/*", "/feed.xml", "/index.html"]
    assert plan.collateral == 13
    small = plan_paths(["/blog/post-1/index.html", "/blog/post-2/index.html"], tree=tree)
    # Two exact paths ($0.005 more) beat a wildcard throwing out 28 posts ($0.014).
    assert _sent(small) == ["/blog/post-1/index.html", "/blog/post-2/index.html"]
    bursting = [f"/x/{n}" for n in range(DEFAULT_BUDGET_LIMIT + 50)]
    wide = plan_paths(bursting, tree=[*TREE, *bursting])
    assert wide.billable <= DEFAULT_BUDGET_LIMIT
    assert wide.wildcards <= DEFAULT_MAX_WILDCARDS
    assert wide.collateral == 0  # /x/* holds only changed paths


def test_budgets_too_small_for_what_is_given() -> None:
    """Cache tags are sent as they are: a budget below them is refused, and so is no wildcard."""
    with pytest.raises(ValueError, match="max_paths=1 is less than the 2 cache tags"):
        plan_paths(["#tag", "#other", "/img/*", "/a"], tree=TREE, max_paths=1)
    with pytest.raises(
        ValueError,
        match=r"max_paths=1 after the 1 cache tags given cannot cover the change: "
        r"max_paths=0 cannot cover 1 changed URLs and 1 wildcards given",
    ):
        plan_paths(["#tag", "/img/*", "/a"], tree=TREE, max_paths=1)
    with pytest.raises(ValueError, match="max_wildcards=0 cannot send the 1 wildcards given"):
        plan_paths(["/img/*", "/a"], tree=TREE, max_paths=5, max_wildcards=0)


def test_the_inputs_wildcards_count_against_the_budget_and_may_be_widened() -> None:
    """A wildcard given is sent as it is, or inside a wider one when the budget needs it."""
    tree = ["/img/a/1.png", "/img/a/2.png", "/img/b/1.png", "/img/c.png", "/img/d.png", "/x"]
    change = ["/img/a/*", "/img/b/*", "/img/c.png"]
    roomy = plan_paths(change, tree=tree, max_paths=3)
    assert sorted(_sent(roomy)) == ["/img/a/*", "/img/b/*", "/img/c.png"]
    assert roomy.collateral == 3  # what the wildcards given match, as always
    # The two wildcards given used to take the budget of 2, leaving no room for
    # /img/c.png: refused.  One wider wildcard covers all three.
    for max_paths, max_wildcards in ((2, None), (1, None), (5, 1)):
        tight = plan_paths(change, tree=tree, max_paths=max_paths, max_wildcards=max_wildcards)
        assert _sent(tight) == ["/img/*"], (max_paths, max_wildcards)
        assert tight.collateral == 4  # the wildcards' own three, and /img/d.png


_names = st.text(alphabet="abc", min_size=1, max_size=3)


@given(
    st.lists(st.lists(_names, min_size=1, max_size=3).map("/".join), min_size=1, max_size=25),
    st.data(),
    st.integers(min_value=1, max_value=6),
)
def test_any_change_is_covered_within_the_budget(
    tree_names: list[str], data: st.DataObject, budget: int
) -> None:
    """Property: within budget, every changed path covered, collateral exact."""
    tree = sorted({"/" + name for name in tree_names})
    changed = data.draw(st.lists(st.sampled_from([*tree, "/gone"]), min_size=1, unique=True))
    plan = plan_paths(changed, tree=tree, max_paths=budget)
    sent = _sent(plan)
    assert plan.billable <= budget
    wildcards = [p for p in sent if p.endswith("*")]
    for path in changed:
        assert path in sent or any(covers(w, path) for w in wildcards)
    unchanged = set(tree) - set(changed)
    assert plan.collateral == sum(1 for p in unchanged if any(covers(w, p) for w in wildcards))


def test_a_wider_wildcard_accounts_for_the_inputs_it_makes_unnecessary() -> None:
    """An input wildcard inside a chosen one, and what it covered, are in the chosen one's list."""
    plan = plan_paths(
        ["/a/b/*", "/a/b/x", "/a/1", "/a/2"], tree=["/a/1", "/a/2", "/a/b/x", "/a/c"], max_paths=2
    )
    assert _sent(plan) == ["/a/*"]
    assert plan.covered["/a/*"] == ("/a/1", "/a/2", "/a/b/*", "/a/b/x")
    assert plan.covered_dropped == 1  # /a/b/x, which the input's /a/b/* covered
    assert plan.covering("/a/b/x") == "/a/*"


def test_the_wildcard_cap_holds_when_cache_tags_leave_no_default_budget() -> None:
    """A hundred tags leave the default policy nothing, but max_wildcards still holds."""
    tags = [f"#t{i}" for i in range(100)]
    plan = plan_paths(
        [*tags, "/a/*", "/b/*", "/c/*", "/d/1"],
        tree=["/a/1", "/b/1", "/c/1", "/d/1", "/d/2"],
        max_wildcards=1,
    )
    assert plan.wildcards == 1
    assert [p for p in _sent(plan) if not p.startswith("#")] == ["/*"]
    free = plan_paths([*tags, "/a/*", "/b/*", "/d/1"], tree=["/a/1", "/b/1", "/d/1"])
    assert sorted(p for p in _sent(free) if not p.startswith("#")) == ["/a/*", "/b/*", "/d/1"]


@given(
    st.lists(st.sampled_from(["/a/1", "/a/2", "/a/b/1", "/b/1", "/b/2", "/c"]), max_size=6),
    st.lists(st.sampled_from(["/a/*", "/a/b*", "/b/*", "/c*", "/*"]), max_size=3),
    st.lists(st.sampled_from(["#x", "#y"]), max_size=2),
    st.integers(1, 6),
    st.none() | st.integers(1, 3),
)
def test_every_input_path_is_sent_or_accounted_for_within_the_budgets(
    files: list[str],
    wildcards: list[str],
    tags: list[str],
    max_paths: int,
    max_wildcards: int | None,
) -> None:
    """Property: with wildcards and tags given, the budgets hold and nothing is lost."""
    tree = ["/a/1", "/a/2", "/a/3", "/a/b/1", "/b/1", "/b/2", "/c", "/d"]
    given = [*files, *wildcards, *tags]
    if not given:
        return
    if len(set(tags)) > max_paths - (1 if files or wildcards else 0):
        # Only a budget that leaves the change no path after the tags is refused.
        with pytest.raises(ValueError, match=f"max_paths={max_paths}"):
            plan_paths(given, tree=tree, max_paths=max_paths, max_wildcards=max_wildcards)
        return
    plan = plan_paths(given, tree=tree, max_paths=max_paths, max_wildcards=max_wildcards)
    sent = _sent(plan)
    assert plan.billable <= max_paths
    if max_wildcards is not None:
        assert plan.wildcards <= max_wildcards
    for path in given:
        assert path in sent or plan.covering(path) in sent, path


# --- the Invalidator and the command --------------------------------------------------------


async def test_invalidate_with_a_tree_sends_the_collapsed_plan(tmp_path: Path) -> None:
    """Invalidator.invalidate(tree=DIR, max_paths=...): the emulator receives the wildcards."""
    site = tmp_path / "public"
    for path in TREE:
        target = site / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
    async with VirtualClock() as clock:
        runtime = clock.runtime(seed=3)
        async with CloudFrontEmulator(latency=60, runtime=runtime) as emu:
            dist = emu.create_distribution()
            async with Invalidator(dist, runtime=runtime, endpoint_url=emu.endpoint_url) as inv:
                report = await inv.invalidate(CHANGED, tree=site, max_paths=5)
            (made,) = emu.invalidations(dist)
    assert made.batch.paths.quantity == report.billable <= 5
    assert (report.collateral, report.collapsed) == (6, 24)
    assert report.to_dict()["Collateral"] == 6


def test_the_command_collapses_with_a_tree_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--tree FILE --max-paths N --dry-run: the billable paths, collateral and wildcards."""
    listing = tmp_path / "tree.txt"
    listing.write_text("\n".join(TREE) + "\n")
    code, out, err = run(
        capsys, "invalidate", "--distribution-id", "E1", "--dry-run", "--tree", str(listing),
        "--max-paths", "5", *CHANGED,
    )  # fmt: skip
    assert code == 0, err
    plan = json.loads(out)
    assert plan["BillablePathsPerTarget"] <= 5
    assert plan["CollateralPaths"] == 6
    wildcards = plan["PathsUnderEachWildcard"]
    assert sum(wildcards.values()) == plan["CollapsedIntoWildcards"] == 24  # the posts
    assert all(w.endswith("*") for w in wildcards)


def test_the_command_sends_the_collapsed_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A real run with --tree and --index-document against the emulator."""
    listing = tmp_path / "tree.txt"
    listing.write_text("\n".join(TREE) + "\n")
    with CloudFrontEmulator(latency=0, rate_limits=None, runtime=Runtime.seeded(2)) as emu:
        dist = emu.create_distribution()
        code, out, err = run(
            capsys, "invalidate", "--distribution-id", dist, "--tree", str(listing),
            "--max-paths", "4", "--index-document", "index.html", "--progress", "none",
            *CHANGED, emu=emu,
        )  # fmt: skip
        assert code == 0, err
        (made,) = emu.invalidations(dist)
    report = json.loads(out)["Reports"][0]
    assert made.batch.paths.quantity == report["BillablePaths"] <= 4
    assert report["Collateral"] >= 6


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--max-paths", "3"], "needs the site's tree (--tree)"),
        (["--tree", "/no/such/dir"], "does not exist"),
        (["--tree", "ftp://bucket/x"], "ftp://bucket/x"),
    ],
)
def test_tree_and_budget_mistakes_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    """A budget without a tree, or a tree that cannot be read: 252 and why."""
    code, _, err = run(capsys, "invalidate", "--distribution-id", "E1", "--dry-run", *argv, "/a")
    assert code == 252
    assert said in err


# --- the input's own wildcards, tags and index documents, with a tree -----------------------


def test_the_inputs_wildcards_are_part_of_the_reckoning() -> None:
    """What a wildcard of the input throws out is not counted twice, nor covered twice."""
    tree = [
        "/a/1", "/a/2", *(f"/a/x/{n}" for n in range(100)),
        "/b/1", "/b/2", *(f"/b/{n}" for n in range(3, 53)),
    ]  # fmt: skip
    plan = plan_paths(["/a/x/*", "/a/1", "/a/2", "/b/1", "/b/2"], tree=tree, max_paths=4)
    # /a/* holds /a/x/* (invalidated anyway): 3 paths and 100 objects, not /b/* and 150.
    assert sorted(_sent(plan)) == ["/a/*", "/b/1", "/b/2"]
    assert plan.collateral == 100
    nested = plan_paths(
        ["/a/b/*", "/a/1", "/a/2"], tree=["/a/1", "/a/2", "/a/b/1", "/a/c"], max_paths=2
    )
    assert _sent(nested) == ["/a/*"]  # the input's /a/b/* is inside it: not sent as well
    assert nested.collateral == 2  # /a/b/1 and /a/c, each once


def test_collateral_of_the_inputs_wildcards_counts_changed_paths_as_changed() -> None:
    """A changed path under an input wildcard is not collateral."""
    plan = plan_paths(["/a/*", "/a/1"], tree=["/a/1", "/a/2"], max_paths=5)
    assert plan.collateral == 1


def test_a_directory_url_an_input_wildcard_misses_is_still_sent() -> None:
    """/a/i* covers /a/index.html but not /a/: the alias is sent, with a tree or without."""
    bare = plan_paths(["/a/i*", "/a/index.html"], index_document="index.html")
    assert sorted(_sent(bare)) == ["/a/", "/a/i*"]
    tree = ["/a/index.html", "/a/x"]
    exact = plan_paths(
        ["/a/i*", "/a/index.html"], tree=tree, index_document="index.html", max_paths=2
    )
    assert sorted(_sent(exact)) == ["/a/", "/a/i*"]  # no collateral
    # By default one path and /a/x thrown out ($0.0055) beat two paths ($0.01).
    cheap = plan_paths(["/a/i*", "/a/index.html"], tree=tree, index_document="index.html")
    assert _sent(cheap) == ["/a/*"]
    assert cheap.collateral == 1


def test_the_default_policy_keeps_to_15_wildcards_with_the_inputs() -> None:
    """The input's wildcards count against the default's 15 wildcards."""
    dirs = [f"/d{n}/" for n in range(20)]
    tree = [f"{d}{i}" for d in dirs for i in range(5)] + [f"{d[:-1]}-old/x" for d in dirs]
    given = [f"/g{n}/*" for n in range(10)]
    plan = plan_paths([*given, *(f"{d}{i}" for d in dirs for i in range(5))], tree=tree)
    assert plan.wildcards <= DEFAULT_MAX_WILDCARDS


@pytest.mark.parametrize(
    ("kwargs", "error", "said"),
    [
        ({"max_paths": True}, TypeError, "max_paths must be an int or None, got True"),
        ({"max_paths": -1}, ValueError, "max_paths=-1 is negative"),
        ({"index_document": "/index.html"}, ValueError, "index_document='/index.html' must"),
        ({"index_document": ""}, ValueError, "index_document='' must"),
        ({"tree": []}, ValueError, "the tree is empty"),
        ({"tree": ["/a", 7]}, TypeError, "tree paths must be str, got 7"),
    ],
)
def test_bad_options_are_named(kwargs: dict[str, object], error: type, said: str) -> None:
    """Each refusal names the value given, with or without a tree."""
    with pytest.raises(error, match=re.escape(said)):
        plan_paths(["/a"], **kwargs)  # type: ignore[arg-type]


def test_a_budget_refusal_names_the_budget_given() -> None:
    """Not what was left of it after the tags given."""
    with pytest.raises(ValueError, match=r"^max_paths=2 after the 2 cache tags given cannot"):
        plan_paths(["#a", "#b", "/a/1"], tree=["/a/1", "/a/2"], max_paths=2)
