"""Boundary nesting: depths, cycles and chains, with each boundary visited once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from threatdelta import limits
from threatdelta.errors import InputError, Location
from threatdelta.model.nesting import chains, check_nesting, resolve


class CountingParents(dict[str, str | None]):
    """A parent mapping that counts how often a parent is looked up."""

    lookups = 0

    def __getitem__(self, key: str) -> str | None:
        type(self).lookups += 1
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[str]:
        return super().__iter__()


def test_depths_of_a_forest() -> None:
    nesting = resolve({"a": None, "b": "a", "c": "b", "d": "a", "e": "unknown"})
    assert dict(nesting.depth) == {"a": 1, "b": 2, "c": 3, "d": 2, "e": 1}
    assert nesting.cycles == ()


def test_each_cycle_is_found_once_and_what_leads_into_it_is_bounded() -> None:
    nesting = resolve({"a": "b", "b": "c", "c": "a", "x": "a", "y": "y"})
    assert sorted(sorted(c) for c in nesting.cycles) == [["a", "b", "c"], ["y"]]
    assert nesting.depth["x"] == 4 and nesting.depth["a"] == 3


def test_chains_run_innermost_first_and_hold_each_cycle_member_once() -> None:
    found = chains({"hospital": None, "ward": "hospital", "bed": "ward", "p": "q", "q": "p"})
    assert found["bed"] == ("bed", "ward", "hospital")
    assert found["hospital"] == ("hospital",)
    assert found["p"] == ("p", "q") and found["q"] == ("q", "p")


def test_a_long_chain_is_resolved_with_one_lookup_per_boundary() -> None:
    n = 5000
    parents = CountingParents({f"b{i}": (f"b{i - 1}" if i else None) for i in range(n)})
    CountingParents.lookups = 0
    nesting = resolve(parents)
    assert nesting.depth[f"b{n - 1}"] == n
    assert CountingParents.lookups <= n


def test_boundaries_nested_too_deep_are_refused_at_the_boundary_that_goes_too_far() -> None:
    depth = limits.MAX_BOUNDARY_DEPTH
    parents = {f"b{i}": (f"b{i - 1}" if i else None) for i in range(depth + 5)}
    with pytest.raises(InputError) as info:
        check_nesting(parents, lambda b: Location("m.yaml", int(b[1:]) + 1, 1))
    assert info.value.location == Location("m.yaml", depth + 1, 1)
    shallow = {k: v for k, v in parents.items() if int(k[1:]) < depth}
    assert check_nesting(shallow, lambda b: Location("m.yaml")).depth["b0"] == 1
