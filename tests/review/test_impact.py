"""Incremental enumeration must give exactly what a full re-enumeration gives."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import boundary, element, flow, model, rule

from threatdelta.engine import EnumerationStats, enumerate_threats
from threatdelta.model.model import Asset, Model, frozen_props
from threatdelta.review.diff import diff_models
from threatdelta.review.impact import enumerate_after, impact, incremental_threats
from threatdelta.rules.packfile import builtin_pack
from threatdelta.threat import Threat

# The built-in pack plus a rule that reads an element's nesting depth, so moving a boundary
# (without touching the elements inside it) must re-run element rules too.
PACK = dataclasses.replace(
    builtin_pack(),
    rules=(
        *builtin_pack().rules,
        rule("deeply-nested", "element.zone_depth is 2 or element.boundary is 'b1'"),
    ),
)
TYPES = ("external-entity", "process", "data-store")
PROTOCOLS = ("https", "can", "udp", "ble", "ipc", "usb", "uart", "ui", "generic")
KINDS = {
    "external-entity": ("generic", "person"),
    "process": ("generic", "control-unit", "mobile-app", "web-service"),
    "data-store": ("generic", "log", "key-store"),
}
ASSETS = (
    Asset("a-phi", "Readings", "phi", "high", "medium", "low"),
    Asset("a-cmd", "Commands", "therapy-command", "low", "high", "high"),
)


def _safety(draw: st.DrawFn) -> dict[str, object]:
    return {
        "hazards": tuple(draw(st.sets(st.sampled_from(("H1", "H2")), max_size=2))),
        "essential_performance": draw(st.booleans()),
        "data": tuple(sorted(draw(st.sets(st.sampled_from(("a-phi", "a-cmd")), max_size=2)))),
    }


PROPS = (
    "encrypted",
    "authenticated",
    "integrity_protected",
    "sanitizes_input",
    "stores_logs",
    "watchdog",
    "broadcast",
    "signed",
    "carries_firmware",
    "runs_privileged",
)


@st.composite
def models(draw: st.DrawFn) -> Model:
    n_boundaries = draw(st.integers(0, 4))
    boundaries = []
    for i in range(n_boundaries):
        parent = (
            draw(st.one_of(st.none(), st.sampled_from([f"b{j}" for j in range(i)]))) if i else None
        )
        kind = draw(st.sampled_from(("generic", "device")))
        boundaries.append(boundary(f"b{i}", parent=parent, kind=kind))
    bids = [b.id for b in boundaries]
    n_elements = draw(st.integers(1, 7))
    elements = []
    for i in range(n_elements):
        props = {p: draw(st.booleans()) for p in draw(st.sets(st.sampled_from(PROPS), max_size=3))}
        element_type = draw(st.sampled_from(TYPES))
        made = element(
            f"e{i}",
            element_type,
            draw(st.sampled_from(KINDS[element_type])),
            boundary=draw(st.one_of(st.none(), st.sampled_from(bids))) if bids else None,
            **props,
        )
        elements.append(dataclasses.replace(made, **_safety(draw)))
    flows = []
    for i in range(draw(st.integers(0, 8))):
        a = draw(st.integers(0, n_elements - 1))
        b = draw(st.integers(0, n_elements - 1))
        props = {p: draw(st.booleans()) for p in draw(st.sets(st.sampled_from(PROPS), max_size=3))}
        made_flow = flow(
            f"f{i}",
            f"e{a}",
            f"e{b}",
            draw(st.sampled_from(PROTOCOLS)),
            draw(st.booleans()),
            **props,
        )
        flows.append(dataclasses.replace(made_flow, **_safety(draw)))
    return dataclasses.replace(model(elements, flows, boundaries), assets=ASSETS)


@st.composite
def edited(draw: st.DrawFn, base: Model) -> Model:
    elements = {e.id: e for e in base.elements}
    flows = {f.id: f for f in base.flows}
    boundaries = {b.id: b for b in base.boundaries}
    assets = base.assets
    for _ in range(draw(st.integers(1, 4))):
        action = draw(
            st.sampled_from(
                [
                    "prop",
                    "move",
                    "add-flow",
                    "drop-flow",
                    "drop-element",
                    "reparent",
                    "rename",
                    "protocol",
                    "safety",
                    "flow-safety",
                    "boundary-kind",
                    "asset",
                    "flow-prop",
                    "flow-ends",
                    "flow-data",
                    "bidirectional",
                    "out-of-scope",
                    "element-type",
                    "add-element",
                    "add-boundary",
                    "drop-boundary",
                    "line-boundary",
                    "rename-id",
                    "element-name",
                ]
            )
        )
        if action == "prop" and elements:
            e = elements[draw(st.sampled_from(sorted(elements)))]
            props = dict(e.properties)
            props[draw(st.sampled_from(PROPS))] = draw(st.booleans())
            elements[e.id] = dataclasses.replace(e, properties=frozen_props(props))
        elif action == "flow-prop" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            props = dict(f.properties)
            props[draw(st.sampled_from(PROPS))] = draw(st.booleans())
            flows[f.id] = dataclasses.replace(f, properties=frozen_props(props))
        elif action == "flow-ends" and flows and elements:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            ids = sorted(elements)
            flows[f.id] = dataclasses.replace(
                f, source=draw(st.sampled_from(ids)), target=draw(st.sampled_from(ids))
            )
        elif action == "flow-data" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            data = tuple(sorted(draw(st.sets(st.sampled_from(("a-phi", "a-cmd")), max_size=2))))
            flows[f.id] = dataclasses.replace(f, data=data)
        elif action == "bidirectional" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            flows[f.id] = dataclasses.replace(f, bidirectional=not f.bidirectional)
        elif action == "out-of-scope" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            flows[f.id] = dataclasses.replace(f, out_of_scope=not f.out_of_scope)
        elif action == "element-type" and elements:
            e = elements[draw(st.sampled_from(sorted(elements)))]
            element_type = draw(st.sampled_from(TYPES))
            elements[e.id] = dataclasses.replace(
                element(
                    e.id,
                    element_type,
                    draw(st.sampled_from(KINDS[element_type])),
                    boundary=e.boundary,
                    name=e.name,
                    **dict(e.properties),
                ),
                hazards=e.hazards,
                essential_performance=e.essential_performance,
                data=e.data,
            )
        elif action == "add-element":
            new_id = f"x{len(elements)}-{draw(st.integers(0, 99))}"
            element_type = draw(st.sampled_from(TYPES))
            target = draw(st.sampled_from(sorted(elements))) if elements else new_id
            elements[new_id] = element(
                new_id,
                element_type,
                boundary=draw(st.one_of(st.none(), st.sampled_from(sorted(boundaries))))
                if boundaries
                else None,
            )
            flows[f"{new_id}-out"] = flow(
                f"{new_id}-out", new_id, target, draw(st.sampled_from(PROTOCOLS))
            )
        elif action == "add-boundary":
            new_id = f"nb{len(boundaries)}-{draw(st.integers(0, 99))}"
            boundaries[new_id] = boundary(
                new_id,
                parent=draw(st.one_of(st.none(), st.sampled_from(sorted(boundaries))))
                if boundaries
                else None,
                kind=draw(st.sampled_from(("generic", "device"))),
            )
            if elements:
                e = elements[draw(st.sampled_from(sorted(elements)))]
                elements[e.id] = dataclasses.replace(e, boundary=new_id)
        elif action == "drop-boundary" and boundaries:
            gone = draw(st.sampled_from(sorted(boundaries)))
            parent = boundaries.pop(gone).parent
            for b in list(boundaries.values()):
                if b.parent == gone:
                    boundaries[b.id] = dataclasses.replace(b, parent=parent)
            for e in list(elements.values()):
                if e.boundary == gone:
                    elements[e.id] = dataclasses.replace(e, boundary=parent)
        elif action == "line-boundary" and boundaries:
            b = boundaries[draw(st.sampled_from(sorted(boundaries)))]
            boundaries[b.id] = dataclasses.replace(b, line=not b.line)
        elif action == "rename-id" and elements:
            # An element gets a new id (declared or not): its flows follow it.
            old_id = draw(st.sampled_from(sorted(elements)))
            new_id = f"{old_id}r"
            if new_id not in elements:
                e = elements.pop(old_id)
                declared = draw(st.booleans())
                elements[new_id] = dataclasses.replace(
                    e, id=new_id, renamed_from=old_id if declared else None
                )
                for f in list(flows.values()):
                    if old_id in (f.source, f.target):
                        flows[f.id] = dataclasses.replace(
                            f,
                            source=new_id if f.source == old_id else f.source,
                            target=new_id if f.target == old_id else f.target,
                        )
        elif action == "element-name" and elements:
            e = elements[draw(st.sampled_from(sorted(elements)))]
            elements[e.id] = dataclasses.replace(e, name=e.name + "!")
        elif action == "move" and elements and boundaries:
            e = elements[draw(st.sampled_from(sorted(elements)))]
            elements[e.id] = dataclasses.replace(
                e, boundary=draw(st.one_of(st.none(), st.sampled_from(sorted(boundaries))))
            )
        elif action == "add-flow" and elements:
            ids = sorted(elements)
            new_id = f"n{len(flows)}-{draw(st.integers(0, 99))}"
            flows[new_id] = flow(
                new_id,
                draw(st.sampled_from(ids)),
                draw(st.sampled_from(ids)),
                draw(st.sampled_from(PROTOCOLS)),
            )
        elif action == "drop-flow" and flows:
            flows.pop(draw(st.sampled_from(sorted(flows))))
        elif action == "drop-element" and len(elements) > 1:
            gone = draw(st.sampled_from(sorted(elements)))
            elements.pop(gone)
            flows = {k: f for k, f in flows.items() if gone not in (f.source, f.target)}
        elif action == "reparent" and len(boundaries) > 1:
            b = boundaries[draw(st.sampled_from(sorted(boundaries)))]
            others = [
                x
                for x in sorted(boundaries)
                if x != b.id and x not in _descendants(boundaries, b.id)
            ]
            boundaries[b.id] = dataclasses.replace(
                b, parent=draw(st.one_of(st.none(), st.sampled_from(others))) if others else None
            )
        elif action == "rename" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            flows[f.id] = dataclasses.replace(f, name=f.name + "!")
        elif action == "protocol" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            p = draw(st.sampled_from(PROTOCOLS))
            flows[f.id] = flow(
                f.id, f.source, f.target, p, f.bidirectional, name=f.name, **dict(f.properties)
            )
        elif action == "safety" and elements:
            e = elements[draw(st.sampled_from(sorted(elements)))]
            elements[e.id] = dataclasses.replace(e, **_safety(draw))
        elif action == "flow-safety" and flows:
            f = flows[draw(st.sampled_from(sorted(flows)))]
            flows[f.id] = dataclasses.replace(f, **_safety(draw))
        elif action == "boundary-kind" and boundaries:
            b = boundaries[draw(st.sampled_from(sorted(boundaries)))]
            kind = "generic" if b.kind == "device" else "device"
            boundaries[b.id] = boundary(b.id, parent=b.parent, kind=kind)
        elif action == "asset":
            assets = (dataclasses.replace(ASSETS[0], confidentiality="low"), ASSETS[1])
    edited_model = model(list(elements.values()), list(flows.values()), list(boundaries.values()))
    return dataclasses.replace(edited_model, assets=assets)


def _descendants(boundaries: dict, root: str) -> set[str]:
    found: set[str] = set()
    frontier = {root}
    while frontier:
        children = {b.id for b in boundaries.values() if b.parent in frontier and b.id not in found}
        found |= children
        frontier = children
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_incremental_equals_full_enumeration(data: st.DataObject) -> None:
    base = data.draw(models())
    head = data.draw(edited(base))
    base_threats = enumerate_threats(base, PACK)
    change = impact(base, head, diff_models(base, head), same_pack=True)
    incremental = incremental_threats(base, base_threats, head, PACK, change)
    full = enumerate_threats(head, PACK)

    def seen(threats: tuple[Threat, ...]) -> list[tuple[object, ...]]:
        return [
            (t.key, t.title, t.severity, t.exploitability, t.hazards, t.assets, t.countermeasures)
            for t in threats
        ]

    assert seen(incremental) == seen(full)
    # The same, as the history does it: from the revision before, whatever it was.
    before = enumerate_after(None, base, PACK)
    assert before.threats == enumerate_threats(base, PACK)
    after = enumerate_after(before, head, PACK)
    assert seen(after.threats) == seen(full)
    assert after.threats == full  # every field that takes part in equality
    assert [t.location for t in after.threats] == [t.location for t in full]


def test_one_element_change_in_a_large_model_evaluates_a_small_scope() -> None:
    elements = [element("hub", "process", boundary="zone")]
    flows = []
    for i in range(400):
        elements.append(element(f"p{i}", "process", boundary="zone" if i % 2 else None))
        flows.append(flow(f"f{i}", f"p{i}", f"p{(i + 1) % 400}", "https"))
    flows.append(flow("hub-in", "p0", "hub", "can"))
    base = model(elements, flows, [boundary("zone")])
    changed = [
        dataclasses.replace(e, properties=frozen_props({"sanitizes_input": True}))
        if e.id == "p7"
        else e
        for e in elements
    ]
    head = model(changed, flows, [boundary("zone")])
    base_threats = enumerate_threats(base, PACK)
    change = impact(base, head, diff_models(base, head), same_pack=True)
    stats = EnumerationStats()
    incremental = incremental_threats(base, base_threats, head, PACK, change, stats=stats)
    full_stats = EnumerationStats()
    full = enumerate_threats(head, PACK, stats=full_stats)
    assert incremental == full
    # p7 and the two flows that touch it: nothing else is evaluated.
    assert stats.subjects == {"p7", "f6", "f7"}
    assert stats.evaluations * 100 < full_stats.evaluations


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fields_of_one_item_are_its_changed_fields_in_order(data: st.DataObject) -> None:
    base = data.draw(models())
    head = data.draw(edited(base))
    diff = diff_models(base, head)
    for change in diff.fields:
        expected = tuple(f for f in diff.fields if (f.kind, f.id) == (change.kind, change.id))
        assert diff.fields_of(change.kind, change.id) == expected
    assert diff.fields_of("elements", "no-such-item") == ()


def test_kept_threats_are_located_where_the_later_revision_declares_their_subjects() -> None:
    from threatdelta.formats.registry import read_model

    lines = [
        "version: 1",
        "system: pump",
        "elements:",
        "  - {id: nurse, name: Nurse, type: external-entity}",
        "  - {id: ctrl, name: Controller, type: process}",
        "  - {id: db, name: Store, type: data-store}",
        "flows:",
        "  - {id: f1, name: Dose, from: nurse, to: ctrl, protocol: tcp}",
        "  - {id: f2, name: Log, from: ctrl, to: db, protocol: tcp}",
    ]
    base = read_model("\n".join(lines).encode(), "threatmodel.yaml").model
    # A new element above the others moves every later declaration down one line.
    lines.insert(3, "  - {id: pump, name: Pump, type: process}")
    head = read_model("\n".join(lines).encode(), "threatmodel.yaml").model
    pack = builtin_pack()
    after = enumerate_after(enumerate_after(None, base, pack), head, pack)
    full = enumerate_threats(head, pack)
    assert after.threats == full
    assert [t.location for t in after.threats] == [t.location for t in full]
    kept = [t for t in after.threats if t.element == "db" or t.flow == "f2"]
    assert kept and all(t.location is not None and t.location.line > 6 for t in kept)
