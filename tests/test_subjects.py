from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import boundary, element, flow, model
from tests.test_engine_grouping import ATTRIBUTES, models

from threatdelta.model.graph import facts
from threatdelta.model.model import Model
from threatdelta.rules.lang.interface import Value
from threatdelta.rules.packfile import builtin_pack
from threatdelta.subjects import SubjectFactory


def _factory():
    m = model(
        [
            element("ui", "external-entity", "person"),
            element("ctrl", boundary="dev", sanitizes_input=True),
        ],
        [flow("cmd", "ui", "ctrl", "can", bidirectional=True, encrypted=False, authenticated=True)],
        [boundary("dev", kind="device")],
    )
    return m, SubjectFactory(facts(m), {"SE.P.Custom": "GE.P"})


def test_attributes_answer_in_both_vocabularies() -> None:
    m, factory = _factory()
    ctrl = factory.element(m.element("ctrl"))
    cmd = factory.flow(m.flow("cmd"))
    assert ctrl.attribute("sanitizes_input") is True
    assert ctrl.attribute("hasInputSanitizers") is True
    assert cmd.attribute("providesConfidentiality") is False
    assert cmd.attribute("authenticatesSource") is True
    assert cmd.attribute("providesIntegrity") is None
    assert ctrl.attribute("Name") == "ctrl" and ctrl.attribute("zone_depth") == 1


def test_types_and_crossings() -> None:
    m, factory = _factory()
    ctrl = factory.element(m.element("ctrl"))
    cmd = factory.flow(m.flow("cmd"))
    assert ctrl.is_type("GE.P") and ctrl.is_type("process") and ctrl.is_type("ROOT")
    assert not ctrl.is_type("GE.DS")
    assert cmd.is_type("flow/can") and cmd.crosses("GE.TB.B") and cmd.crosses("boundary/device")
    assert not cmd.crosses("GE.TB.L") and not ctrl.crosses("GE.TB.B")
    assert cmd.attribute("crosses_boundary") is True and cmd.attribute("crossing_count") == 1


def test_reply_leg_swaps_direction() -> None:
    m, factory = _factory()
    forward = factory.flow(m.flow("cmd"))
    reply = factory.flow(m.flow("cmd"), reverse=True)
    assert forward.attribute("inbound") is True and forward.attribute("outbound") is False
    assert reply.attribute("inbound") is False and reply.attribute("outbound") is True


def test_a_protocol_implies_protection_in_both_vocabularies_unless_the_flow_says_otherwise() -> (
    None
):
    m = model(
        [element("a"), element("b")],
        [flow("s", "a", "b", "https"), flow("p", "a", "b", "https", encrypted=False)],
    )
    factory = SubjectFactory(facts(m), {})
    secure = factory.flow(m.flows[1])
    assert secure.flow.id == "s"
    assert secure.attribute("encrypted") is True
    assert secure.attribute("providesConfidentiality") is True
    assert secure.attribute("providesIntegrity") is True
    assert secure.attribute("server_authenticated") is True
    assert secure.attribute("authenticated") is None
    assert secure.attribute("protocol_family") == "ip"
    plain = factory.flow(m.flows[0])
    assert plain.attribute("encrypted") is False
    assert plain.attribute("integrity_protected") is True


def test_on_board_buses_and_user_interactions_are_worked_out_from_the_model() -> None:
    m = model(
        [
            element("nurse", "external-entity", "person"),
            element("ui", "process", "control-unit", "dev"),
            element("mcu", "process", "control-unit", "core"),
            element("other", "process", "control-unit", "dev2"),
        ],
        [
            flow("press", "nurse", "ui"),
            flow("wire", "ui", "mcu", "uart"),
            flow("cable", "ui", "other", "uart"),
            flow("net", "nurse", "ui", "https"),
        ],
        [
            boundary("dev", kind="device"),
            boundary("core", parent="dev", kind="process"),
            boundary("dev2", kind="device"),
        ],
    )
    factory = SubjectFactory(facts(m), {})
    by_id = {f.id: factory.flow(f) for f in m.flows}
    assert by_id["press"].attribute("user_interaction") is True
    assert by_id["net"].attribute("user_interaction") is False
    assert by_id["wire"].attribute("on_board") is True
    assert by_id["cable"].attribute("on_board") is False
    assert by_id["press"].attribute("on_board") is False


@settings(max_examples=150, deadline=None)
@given(models(), st.lists(st.sampled_from(ATTRIBUTES), min_size=1, max_size=6, unique=True))
def test_subjects_with_equal_keys_answer_alike(m: Model, names: list[str]) -> None:
    factory = SubjectFactory.for_pack(facts(m), builtin_pack())
    reading = factory.reading(tuple(names))
    by_key: dict[object, list[Value]] = {}
    for e in m.elements:
        subject = factory.new_element(e)
        answers = [subject.attribute(n) for n in names]
        seen = by_key.setdefault(subject.key(reading), answers)
        assert [(type(v), v) for v in seen] == [(type(v), v) for v in answers]
    reading = factory.reading(tuple(names), flow=True)
    for f in m.flows:
        for reverse in (False, True):
            flow_subject = factory.new_flow(f, reverse)
            answers = [flow_subject.attribute(n) for n in names]
            seen = by_key.setdefault(flow_subject.key(reading), answers)
            assert [(type(v), v) for v in seen] == [(type(v), v) for v in answers]
