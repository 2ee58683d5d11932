from tests.helpers import boundary, element, flow, model

from threatdelta.model.graph import facts
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
