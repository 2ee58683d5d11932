"""Disposition skeletons: the YAML a team completes to record its decisions.

Used by the pull-request comment ("Record a decision") and by ``threatdelta dispositions``. A
skeleton is correct when pasted (the model still parses, no key appears twice, every control it
names is defined) but it is not a decision: each threat's ``status`` is left ``open`` and the
acceptance lines hold the placeholders of :mod:`threatdelta.model.placeholders`, which the register
refuses to count. Choosing the status, and writing the justification and approver, is the decision.

Threats that already have an entry are not repeated in the block to paste (that would be a
duplicate key): they come back as :class:`Replacement` items, with what is wrong and the entry to
write in place of the existing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from threatdelta.model import placeholders
from threatdelta.model.model import Disposition, Model
from threatdelta.register import Entry
from threatdelta.render.escape import fence, yaml_scalar
from threatdelta.rules.pack import STRIDE_NAMES, RulePack

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")


@dataclass(frozen=True)
class Replacement:
    """A threat that already has an entry in ``threats:``: what to change, not a second key."""

    key: str
    """The threat key."""
    line: int | None
    """Where the existing entry is written."""
    problems: tuple[str, ...]
    """Why the entry does not address the threat."""
    text: str
    """The entry to write in its place (two-space indented, like the paste block)."""


@dataclass(frozen=True)
class Skeleton:
    """What to paste into a native model, and what to change in it."""

    threats: str
    """Entries to paste under ``threats:`` (with the ``threats:`` line when the model has none)."""
    controls: str
    """Controls to paste under ``controls:`` (with the ``controls:`` line when the model has none);
    empty when every suggested control is defined."""
    replacements: tuple[Replacement, ...]
    """Existing entries to change."""
    threats_section: bool
    """The model already has a ``threats:`` section (paste under it, without the header)."""
    controls_section: bool
    """The model already has a ``controls:`` section."""
    new_controls: tuple[str, ...]
    """Ids of the controls the skeleton adds (status planned)."""

    @property
    def empty(self) -> bool:
        """Nothing to paste and nothing to change."""
        return not (self.threats or self.replacements)


def _valid_id(text: str) -> bool:
    return 0 < len(text) <= 200 and text[0].isalnum() and set(text) <= _ID_CHARS


def _suggested_ids(entry: Entry) -> tuple[str, ...]:
    ids = tuple(c for c in entry.threat.countermeasures if _valid_id(c))
    return ids or (placeholders.CONTROL_ID,)


def _flow_list(ids: Iterable[str]) -> str:
    return "[" + ", ".join(ids) + "]"


def _header(entry: Entry, pack: RulePack | None) -> list[str]:
    threat = entry.threat
    stride = ", ".join(STRIDE_NAMES.get(letter, letter) for letter in threat.stride)
    lines = [f"  # {fence(threat.title, 160)} ({threat.severity}; {fence(stride, 60)})"]
    if pack is not None and threat.countermeasures:
        names = [
            pack.countermeasures[c].name if c in pack.countermeasures else c
            for c in threat.countermeasures
        ]
        lines.append(f"  # suggested: {fence('; '.join(names), 700)}")
    return lines


ACCEPTANCE_LINES = (
    "    status: accepted",
    f"    justification: {placeholders.JUSTIFICATION}",
    f"    approved_by: {placeholders.APPROVER}",
    f"    approved_on: {placeholders.DATE}",
    f"    expires: {placeholders.DATE}",
)
"""How to accept a risk instead, with the placeholders a person replaces (the compact skeleton
shows these once, not under every entry)."""


def _undecided(
    entry: Entry, kept: tuple[str, ...] = (), compact: bool = False
) -> tuple[list[str], tuple[str, ...]]:
    """An entry to decide: status open, the controls that would answer it (``kept`` first, then
    the suggested ones), and (unless ``compact``) the acceptance lines commented out."""
    controls = tuple(dict.fromkeys([*kept, *_suggested_ids(entry)]))
    if compact:
        return [
            f"  {yaml_scalar(entry.key)}:",
            "    status: open",
            f"    controls: {_flow_list(controls)}",
        ], controls
    return [
        f"  {yaml_scalar(entry.key)}:",
        "    status: open  # the decision: mitigated (by these controls) or accepted (lines below)",
        f"    controls: {_flow_list(controls)}",
        *("    # " + line.strip() for line in ACCEPTANCE_LINES[1:]),
    ], controls


_RENEW = frozenset({"expired", "expiring"})
_REWRITE = frozenset({"missing-justification", "missing-approver", "missing-recipient"})


def _revised(
    entry: Entry, disposition: Disposition, model: Model, compact: bool = False
) -> tuple[list[str], tuple[str, ...]]:
    """An existing entry, with a placeholder where it needs a person's answer again. A mitigation
    that does not hold goes back to ``open``: picking the controls is the decision."""
    codes = {p.code for p in entry.problems}
    status = disposition.status
    if status in ("open", "mitigated"):
        kept = tuple(c for c in disposition.controls if model.control(c) is not None)
        return _undecided(entry, kept, compact)
    lines = [f"  {yaml_scalar(entry.key)}:", f"    status: {status}"]
    sentence = {
        "accepted": placeholders.JUSTIFICATION,
        "transferred": placeholders.TRANSFER_JUSTIFICATION,
        "not-applicable": placeholders.REASON,
    }[status]
    written = disposition.justification.strip()
    unwritten = not written or placeholders.placeholder_in(written) is not None
    lines.append(f"    justification: {sentence if unwritten else yaml_scalar(written)}")
    if status == "not-applicable":
        return lines, ()
    renew = bool(codes & (_RENEW | _REWRITE)) or unwritten
    approver = disposition.approved_by.strip()
    if renew or not approver or placeholders.placeholder_in(approver) is not None:
        lines.append(f"    approved_by: {placeholders.APPROVER}")
        lines.append(f"    # approved_on: {placeholders.DATE}")
        lines.append(f"    # expires: {placeholders.DATE}")
    else:
        lines.append(f"    approved_by: {yaml_scalar(approver)}")
        if disposition.approved_on is not None:
            lines.append(f"    approved_on: {disposition.approved_on.isoformat()}")
        if disposition.expires is not None:
            lines.append(f"    expires: {disposition.expires.isoformat()}")
    if status == "transferred":
        recipient = disposition.transferred_to.strip()
        unnamed = not recipient or placeholders.placeholder_in(recipient) is not None
        lines.append(
            f"    transferred_to: {placeholders.RECIPIENT if unnamed else yaml_scalar(recipient)}"
        )
    return lines, ()


def _control_lines(control_id: str, pack: RulePack | None) -> list[str]:
    known = pack.countermeasures.get(control_id) if pack is not None else None
    name = known.name if known is not None else control_id
    return [
        f"  - id: {control_id}",
        f"    name: {yaml_scalar(name)}",
        "    status: planned",
        "    evidence: []  # the tests or reports that show it works, once it is built",
    ]


def build_skeleton(
    entries: Iterable[Entry], model: Model, pack: RulePack | None, *, compact: bool = False
) -> Skeleton:
    """The skeleton for ``entries`` (in the order given) of a native ``model``. ``compact``
    leaves out each entry's title and suggestion comments and its commented acceptance lines
    (the pull-request comment lists the titles already and shows :data:`ACCEPTANCE_LINES` once)."""
    threat_lines: list[str] = []
    replacements: list[Replacement] = []
    wanted: dict[str, None] = {}
    for entry in entries:
        disposition = model.dispositions.get(entry.key)
        body, controls = (
            _undecided(entry, compact=compact)
            if disposition is None
            else _revised(entry, disposition, model, compact)
        )
        header = [] if compact else _header(entry, pack)
        for control_id in controls:
            wanted.setdefault(control_id, None)
        if disposition is None:
            threat_lines += [*header, *body]
        else:
            replacements.append(
                Replacement(
                    entry.key,
                    disposition.location.line if disposition.location is not None else None,
                    tuple(p.message for p in entry.problems) or (f"marked {disposition.status}",),
                    "\n".join([*header, *body]) + "\n",
                )
            )
    defined = {c.id for c in model.controls}
    new_controls = tuple(
        c for c in wanted if c not in defined and placeholders.placeholder_in(c) is None
    )
    control_lines = [line for c in new_controls for line in _control_lines(c, pack)]
    threats_section = bool(model.dispositions)
    controls_section = bool(model.controls)
    threats_text = ""
    if threat_lines:
        threats_text = "\n".join(([] if threats_section else ["threats:"]) + threat_lines) + "\n"
    controls_text = ""
    if control_lines:
        controls_text = (
            "\n".join(([] if controls_section else ["controls:"]) + control_lines) + "\n"
        )
    return Skeleton(
        threats_text,
        controls_text,
        tuple(replacements),
        threats_section,
        controls_section,
        new_controls,
    )
