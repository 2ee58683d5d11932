"""Disposition skeletons: correct when pasted, never a decision as they stand."""

from __future__ import annotations

import datetime as dt
import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from threatdelta.assess import Assessment, assess_bytes
from threatdelta.register import Entry
from threatdelta.render.skeleton import Skeleton, build_skeleton

TODAY = dt.date(2026, 11, 25)

MODEL = """\
version: 1
system: Pump
boundaries:
  - {id: device, name: Device, kind: device}
elements:
  - {id: nurse, name: Nurse, type: external-entity, kind: person}
  - {id: ctrl, name: Controller, type: process, kind: control-unit, boundary: device}
flows:
  - {id: dose, name: Dose entry, from: nurse, to: ctrl, protocol: tcp}
controls:
  - {id: x509-authentication, name: Device certificates, status: verified, evidence: [PT-1#F-1]}
threats:
  flow-dos@dose: {status: accepted, justification: Short range only., approved_by: lead, expires: 2026-01-31}
  process-dos@ctrl: {status: mitigated, controls: [gone]}
  process-tampering@ctrl: {status: not-applicable, justification: Why this threat does not apply.}
"""


def _assess(text: str) -> Assessment:
    return assess_bytes(text.encode(), "threatmodel.yaml", None, today=TODAY)


def _open(assessment: Assessment) -> list[Entry]:
    return [e for e in assessment.register.entries if not e.addressed]


def _skeleton(text: str) -> tuple[Assessment, Skeleton]:
    assessment = _assess(text)
    return assessment, build_skeleton(_open(assessment), assessment.register.model, assessment.pack)


def paste(text: str, skeleton: Skeleton) -> str:
    """What a user does: the entries under ``threats:``, the controls under ``controls:``."""
    if skeleton.threats_section:
        text = text.replace("\nthreats:\n", "\nthreats:\n" + skeleton.threats, 1)
    else:
        text += skeleton.threats
    if skeleton.controls:
        if skeleton.controls_section:
            text = text.replace("\ncontrols:\n", "\ncontrols:\n" + skeleton.controls, 1)
        else:
            text += skeleton.controls
    return text


def test_pasted_as_it_stands_the_model_parses_and_nothing_is_decided() -> None:
    before, skeleton = _skeleton(MODEL)
    pasted = paste(MODEL, skeleton)
    after = _assess(pasted)  # parses: no duplicate key, valid ids, valid statuses
    assert {e.key for e in _open(after)} == {e.key for e in _open(before)}
    assert after.register.counts()["unaddressed"] == before.register.counts()["unaddressed"]
    assert after.register.orphans == ()


def test_existing_entries_are_changes_to_make_never_a_second_key() -> None:
    _, skeleton = _skeleton(MODEL)
    replaced = {r.key: r for r in skeleton.replacements}
    assert set(replaced) == {"flow-dos@dose", "process-dos@ctrl", "process-tampering@ctrl"}
    for key in replaced:
        assert key not in skeleton.threats
    assert replaced["flow-dos@dose"].line == 13
    assert any("expired" in p for p in replaced["flow-dos@dose"].problems)
    # the written justification is kept, the approval must be given again
    assert '"Short range only."' in replaced["flow-dos@dose"].text
    assert "approved_by: WHO" in replaced["flow-dos@dose"].text
    # a mitigation naming an unknown control goes back to open, with the suggested controls
    assert "status: open" in replaced["process-dos@ctrl"].text


def test_writing_a_replacement_in_place_keeps_the_model_valid_and_undecided() -> None:
    _, skeleton = _skeleton(MODEL)
    text = MODEL
    for item in skeleton.replacements:
        lines = [ln for ln in text.splitlines(keepends=True) if not ln.startswith(f"  {item.key}:")]
        text = "".join(lines) + item.text
    text = paste(text, skeleton)
    after = _assess(text)
    document = yaml.safe_load(text)
    assert len(document["threats"]) == after.register.counts()["total"]  # one entry each
    assert all(not e.addressed for e in after.register.entries)


def test_suggested_controls_are_used_and_the_undefined_ones_get_a_planned_skeleton() -> None:
    assessment, skeleton = _skeleton(MODEL)
    suggested = {c for e in _open(assessment) for c in e.threat.countermeasures}
    assert "x509-authentication" in suggested
    assert "x509-authentication" not in skeleton.new_controls  # already defined in the model
    assert set(skeleton.new_controls) <= suggested and skeleton.new_controls
    controls = yaml.safe_load(skeleton.controls)
    assert {c["id"] for c in controls} == set(skeleton.new_controls)
    assert {c["status"] for c in controls} == {"planned"}
    assert "CONTROL-ID" not in skeleton.threats


def test_deciding_with_the_pasted_controls_is_a_decision_that_passes() -> None:
    _, skeleton = _skeleton(MODEL)
    decided = paste(MODEL, skeleton).replace(
        "status: open  # the decision", "status: mitigated  # the decision"
    )
    after = _assess(decided)
    pasted = yaml.safe_load(paste(MODEL, skeleton))["threats"]
    new_keys = [k for k in pasted if f'"{k}"' in skeleton.threats]
    assert new_keys
    for key in new_keys:
        entry = after.register.entry(key)
        assert entry is not None and entry.addressed, key
        assert {p.code for p in entry.problems} >= {"control-planned"}


def test_accepting_with_the_placeholders_uncommented_does_not_pass() -> None:
    _, skeleton = _skeleton(MODEL)
    accepted = (
        paste(MODEL, skeleton)
        .replace("status: open  # the decision", "status: accepted  # the decision")
        .replace("    # justification:", "    justification:")
        .replace("    # approved_by:", "    approved_by:")
    )
    after = _assess(accepted)
    for key in yaml.safe_load(accepted)["threats"]:
        if f'"{key}"' in skeleton.threats:
            entry = after.register.entry(key)
            assert entry is not None and not entry.addressed
            assert "placeholder" in {p.code for p in entry.problems}


def test_a_model_without_threats_or_controls_gets_the_section_headers() -> None:
    bare = MODEL.split("controls:\n", 1)[0]
    _, skeleton = _skeleton(bare)
    assert skeleton.threats.startswith("threats:\n") and skeleton.controls.startswith("controls:\n")
    assert skeleton.replacements == ()
    _assess(paste(bare, skeleton))


BARE = MODEL.split("controls:\n", 1)[0]
KEYS = sorted(e.key for e in _assess(BARE).register.entries)
TLS = "  - {id: x509-authentication, name: Device certificates, status: verified, evidence: [PT-1#F-1]}\n"


@st.composite
def _entry(draw: st.DrawFn) -> dict[str, object]:
    status = draw(
        st.sampled_from(["open", "mitigated", "accepted", "transferred", "not-applicable"])
    )
    entry: dict[str, object] = {"status": status}
    if status == "mitigated":
        entry["controls"] = draw(
            st.lists(
                st.sampled_from(["x509-authentication", "ghost", "CONTROL-ID"]),
                max_size=2,
                unique=True,
            )
        )
    elif status != "open":
        entry["justification"] = draw(
            st.sampled_from(["", "Written by a person.", "Why the residual risk is acceptable."])
        )
        if status in ("accepted", "transferred"):
            entry["approved_by"] = draw(st.sampled_from(["", "lead", "WHO"]))
            if draw(st.booleans()):
                entry["expires"] = draw(st.sampled_from(["2026-01-31", "2027-12-31"]))
        if status == "transferred":
            entry["transferred_to"] = draw(st.sampled_from(["", "Hospital IT", "WHOM"]))
    return entry


@settings(max_examples=60, deadline=None)
@given(
    decided=st.dictionaries(st.sampled_from(KEYS), _entry(), max_size=8),
    with_controls=st.booleans(),
    compact=st.booleans(),
)
def test_any_skeleton_pasted_as_it_stands_parses_and_decides_nothing(
    decided: dict[str, dict[str, object]], with_controls: bool, compact: bool
) -> None:
    text = BARE + ("controls:\n" + TLS if with_controls else "")
    if decided:
        text += "threats:\n" + "".join(
            f"  {json.dumps(k)}: {json.dumps(v)}\n" for k, v in sorted(decided.items())
        )
    before = _assess(text)
    skeleton = build_skeleton(_open(before), before.register.model, before.pack, compact=compact)
    for item in skeleton.replacements:
        kept = [
            line
            for line in text.splitlines(keepends=True)
            if not line.startswith(f"  {json.dumps(item.key)}:")
        ]
        text = "".join(kept)
        if "\nthreats:\n" not in text:
            text += "threats:\n"
        text = text.replace("\nthreats:\n", "\nthreats:\n" + item.text, 1)
    after = _assess(paste(text, skeleton))  # parses: no duplicate key, valid values
    assert {e.key for e in _open(after)} == {e.key for e in _open(before)}
    defined = {c.id for c in after.register.model.controls}
    for entry in after.register.model.dispositions.values():
        if entry.key in skeleton.threats:
            assert set(entry.controls) <= defined | {"CONTROL-ID"}
