"""Renamed ids: keys rewritten through declared renames, likely renames suggested."""

from __future__ import annotations

from threatdelta.formats.registry import read_model
from threatdelta.model.model import Model
from threatdelta.model.renames import declared_renames, likely_renames, rekey

MODEL = """\
version: 1
system: Pump
boundaries:
  - {id: device, name: Device, kind: device}
elements:
  - {id: nurse, name: Nurse, type: external-entity, kind: person}
  - {id: ctrl, name: Controller, type: process, kind: control-unit, boundary: device}
flows:
  - {id: dose, name: Dose entry, from: nurse, to: ctrl, protocol: http}
"""


def model(text: str) -> Model:
    return read_model(text.encode(), "threatmodel.yaml").model


def test_rekey_rewrites_every_renamed_part_of_a_key() -> None:
    renames = {"ctrl": "controller", "dose": "dose-entry"}
    assert rekey("process-dos@ctrl", renames) == "process-dos@controller"
    assert (
        rekey("crossing-spoofing@nurse>dose>ctrl", renames)
        == "crossing-spoofing@nurse>dose-entry>controller"
    )
    assert rekey("process-dos@other", renames) == "process-dos@other"
    # Another tool's key (no '@') is left alone.
    assert rekey("TH54-guid-guid", renames) == "TH54-guid-guid"


def test_declared_renames_come_from_renamed_from() -> None:
    head = model(
        MODEL.replace("{id: ctrl,", "{id: controller, renamed_from: ctrl,").replace(
            "to: ctrl", "to: controller"
        )
    )
    assert declared_renames(head) == {"ctrl": "controller"}


def test_an_item_with_the_same_name_type_and_ends_is_a_likely_rename() -> None:
    head = model(
        MODEL.replace("{id: ctrl,", "{id: controller,")
        .replace("to: ctrl", "to: controller")
        .replace("{id: dose,", "{id: dose-entry,")
    )
    found = {(r.what, r.old, r.new) for r in likely_renames(model(MODEL), head)}
    # The flow matches through its renamed end.
    assert found == {("element", "ctrl", "controller"), ("flow", "dose", "dose-entry")}


def test_a_changed_name_or_an_ambiguous_match_is_not_suggested() -> None:
    renamed_and_changed = model(
        MODEL.replace("{id: ctrl, name: Controller,", "{id: pump, name: Pump unit,").replace(
            "to: ctrl", "to: pump"
        )
    )
    assert [r.old for r in likely_renames(model(MODEL), renamed_and_changed)] == []
    declared = model(
        MODEL.replace("{id: ctrl,", "{id: controller, renamed_from: ctrl,").replace(
            "to: ctrl", "to: controller"
        )
    )
    # A declared rename is not suggested again.
    assert likely_renames(model(MODEL), declared) == ()
