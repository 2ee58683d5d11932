"""Risk decisions a change makes: acceptances, transfers and not-applicable entries it adds or
edits, shown in plain sight in the review and judged by the policy (``max-accepted-severity``,
``approvers``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from threatdelta.register import Entry, Register

DECIDED = ("accepted", "transferred", "not-applicable")
"""The statuses that carry a written justification instead of a countermeasure."""


@dataclass(frozen=True)
class Decision:
    """An acceptance, transfer or not-applicable entry added or changed in the change."""

    entry: Entry
    """The threat at head, with its disposition."""
    before: str
    """Its status at base; empty when the threat is new (or the model was added)."""

    @property
    def downgrade(self) -> bool:
        """It was mitigated at base: a countermeasure gave way to a justification."""
        return self.before == "mitigated"


def risk_decisions(
    base: Register | None, head: Register, edited: Iterable[str]
) -> tuple[Decision, ...]:
    """The decisions among ``head``'s entries whose disposition is in ``edited`` (the keys whose
    disposition the change added or changed), sorted by key."""
    keys = set(edited)
    before = base.by_key() if base is not None else {}
    result = []
    for entry in head.entries:
        if entry.status in DECIDED and entry.key in keys:
            old = before.get(entry.key)
            result.append(Decision(entry, old.status if old is not None else ""))
    return tuple(result)
