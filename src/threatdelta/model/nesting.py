"""Trust boundaries nested through ``parent``: cycles, depths and chains, each in linear time.

Every reader and the structural facts use these, so a model with thousands of boundaries costs
time in proportion to its size (each boundary is visited once), whatever their nesting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from threatdelta.errors import InputError, Location
from threatdelta.limits import MAX_BOUNDARY_DEPTH


@dataclass(frozen=True)
class Nesting:
    """What following every boundary's ``parent`` found."""

    depth: Mapping[str, int]
    """Boundary id -> how many boundaries enclose it, itself included (1: top level). A boundary
    on or leading into a cycle counts each boundary of its chain once."""
    cycles: tuple[tuple[str, ...], ...]
    """Each cycle once, as the ids met in order from where the walk entered it."""


def resolve(parents: Mapping[str, str | None]) -> Nesting:
    """Depths and cycles of the forest ``parents`` (id -> parent id; unknown parents end a chain).

    Each id is walked at most once: a walk stops at the first id already finished, so the total
    work is linear in the number of ids.
    """
    depth: dict[str, int] = {}
    cycles: list[tuple[str, ...]] = []
    for start in parents:
        if start in depth:
            continue
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in parents and current not in depth:
            if current in on_path:
                cycle = path[on_path[current] :]
                cycles.append(tuple(cycle))
                for member in cycle:
                    depth[member] = len(cycle)
                del path[on_path[current] :]
                break
            on_path[current] = len(path)
            path.append(current)
            current = parents[current]
        below = depth.get(current, 0) if current is not None else 0
        for member in reversed(path):
            below += 1
            depth[member] = below
    return Nesting(depth, tuple(cycles))


def chains(parents: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    """Boundary id -> itself and its enclosing boundaries, innermost first.

    Chains share their tails, so building them all costs the sum of their lengths; on a cycle a
    chain holds each member once.
    """
    nesting = resolve(parents)
    on_cycle = {member: cycle for cycle in nesting.cycles for member in cycle}
    result: dict[str, tuple[str, ...]] = {}
    for boundary_id in sorted(parents, key=lambda b: nesting.depth.get(b, 0)):
        if boundary_id in result:
            continue
        if boundary_id in on_cycle:
            cycle = on_cycle[boundary_id]
            for i, member in enumerate(cycle):
                result[member] = cycle[i:] + cycle[:i]
            continue
        parent = parents[boundary_id]
        if parent is None or parent not in parents:
            result[boundary_id] = (boundary_id,)
        else:
            result[boundary_id] = (boundary_id, *result[parent])
    return result


def check_nesting(parents: Mapping[str, str | None], locate: Callable[[str], Location]) -> Nesting:
    """Refuse boundaries nested deeper than :data:`threatdelta.limits.MAX_BOUNDARY_DEPTH`
    (``parents``: boundary id -> parent id; ``locate``: where a boundary was written)."""
    nesting = resolve(parents)
    for boundary_id, depth in nesting.depth.items():
        if depth > MAX_BOUNDARY_DEPTH:
            raise InputError(
                f"trust boundary '{boundary_id}' sits inside {depth - 1} nested boundaries; "
                f"at most {MAX_BOUNDARY_DEPTH} levels of nesting are accepted",
                locate(boundary_id),
            )
    return nesting
