"""What the rule language evaluates against.

The evaluator never touches Python objects directly: it asks a :class:`Subject` three questions.
The engine adapts model elements and flows to this protocol.
"""

from __future__ import annotations

from typing import Protocol

Value = str | bool | int | float | None


class Subject(Protocol):
    """One of the things a rule talks about: ``source``, ``flow``, ``target`` or ``element``."""

    def is_type(self, type_id: str) -> bool:
        """True when ``type_id`` is on this subject's type chain (``ROOT`` always is)."""
        ...

    def attribute(self, name: str) -> Value:
        """The value of a property or computed fact; ``None`` when it is not set."""
        ...

    def crosses(self, boundary_type: str) -> bool:
        """True when this subject is a flow crossing a boundary of that type (through its chain)."""
        ...
