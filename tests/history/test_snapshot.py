"""Snapshots: what the history keeps of a model blob, and its round trip through JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
import yaml
from tests.history.gitrepo import AUTH, SPOOF_USER, pump, tamper_accepted

from threatdelta.formats.registry import read_model
from threatdelta.history.snapshot import (
    Snapshot,
    ThreatState,
    pack_key,
    snapshot_data,
    snapshot_from_data,
    snapshot_of,
)
from threatdelta.rules.pack import RulePack


def _snapshot(pack: RulePack, **variant: Any) -> Snapshot:
    text = yaml.safe_dump(pump(**variant))
    return snapshot_of(read_model(text.encode(), "threatmodel.yaml"), pack)


def test_snapshot_counts_and_threat_states(pack: RulePack) -> None:
    snap = _snapshot(
        pack,
        store=True,
        controls=[AUTH],
        threats={
            "spoof@user": SPOOF_USER,
            "tamper@ctrl": tamper_accepted("2025-03-01"),
            "sniff@f1": {"status": "mitigated", "controls": ["nope"]},
        },
    )
    assert (snap.elements, snap.flows, snap.boundaries) == (3, 1, 0)
    states = snap.threat_map()
    assert states["spoof@user"].controls == ("auth",) and not states["spoof@user"].blocked
    assert states["sniff@f1"].blocked  # names an unknown control
    assert states["tamper@ctrl"].expires == "2025-03-01"
    assert states["tamper@ctrl"].approved_by == "safety-lead"
    assert snap.evidence_items() == ("tests/test_auth.py",)


def test_expiry_is_judged_per_date() -> None:
    state = ThreatState("k", "t", "T", "high", "s", "accepted", False, (), "2025-03-01")
    assert state.addressed(dt.date(2025, 3, 1))
    assert not state.addressed(dt.date(2025, 3, 2))
    assert state.expired(dt.date(2025, 3, 2))
    assert not dataclasses.replace(state, status="mitigated").expired(dt.date(2030, 1, 1))


def test_round_trip_through_json(pack: RulePack) -> None:
    snap = _snapshot(pack, admin=True, controls=[AUTH], threats={"spoof@user": SPOOF_USER})
    text = json.dumps(snapshot_data(snap))
    assert snapshot_from_data(json.loads(text)) == snap


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"system": "x"},
        {
            "system": "x",
            "format": "native",
            "elements": "2",
            "flows": 1,
            "boundaries": 0,
            "orphans": 0,
            "threats": [],
            "controls": [],
        },
        {
            "system": "x",
            "format": "native",
            "elements": 2,
            "flows": 1,
            "boundaries": 0,
            "orphans": 0,
            "threats": [["k"]],
            "controls": [],
        },
        {
            "system": "x",
            "format": "native",
            "elements": 2,
            "flows": 1,
            "boundaries": 0,
            "orphans": 0,
            "controls": [],
            "threats": [["k", "t", "S", "low", "s", "accepted", False, [], "not-a-date", ""]],
        },
    ],
)
def test_anything_else_is_rejected(data: object) -> None:
    with pytest.raises(ValueError):
        snapshot_from_data(data)


def test_pack_key_follows_the_rules(pack: RulePack) -> None:
    assert pack_key(pack) == pack.digest
    undigested = dataclasses.replace(pack, digest="")
    assert pack_key(undigested) == pack_key(dataclasses.replace(pack, digest=""))
    changed = dataclasses.replace(
        undigested, rules=(dataclasses.replace(pack.rules[0], severity="critical"), *pack.rules[1:])
    )
    assert pack_key(changed) != pack_key(undigested)
    assert pack_key(None).startswith("default:")
