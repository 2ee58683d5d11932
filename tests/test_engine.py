from tests.helpers import boundary, element, flow, model, pack, rule

from threatdelta.engine import EnumerationScope, EnumerationStats, enumerate_threats, fill_template
from threatdelta.model.model import Model
from threatdelta.rules.pack import RulePack


def _model():
    return model(
        [
            element("nurse", "external-entity", "person", name="Nurse"),
            element("pump", boundary="device", name="Pump", sanitizes_input=False),
            element("log", "data-store", boundary="device", stores_logs=True),
        ],
        [
            flow("dose", "nurse", "pump", name="Dose"),
            flow("sync", "pump", "log", bidirectional=True),
        ],
        [boundary("device", kind="device")],
    )


PACK = pack(
    rule(
        "spoof",
        "element is 'GE.EI' or element is 'GE.P'",
        title="{element.name} can be impersonated",
    ),
    rule("repudiate-log", "element is 'GE.DS' and element.stores_logs", stride="R"),
    rule(
        "sniff",
        "flow crosses 'GE.TB.B'",
        scope="flow",
        stride="I",
        exclude="flow.encrypted",
        title="{flow.name} readable",
    ),
    rule(
        "inject",
        "target is 'GE.P' and flow.inbound",
        scope="interaction",
        stride="T",
        exclude="target.sanitizes_input",
    ),
    rule("talk", "source is 'ROOT'", scope="interaction", stride="D"),
)


def test_keys_titles_and_scopes() -> None:
    threats = enumerate_threats(_model(), PACK)
    keys = [t.key for t in threats]
    assert keys == sorted(keys)
    assert set(keys) == {
        "spoof@nurse",
        "spoof@pump",
        "repudiate-log@log",
        "sniff@dose",
        "inject@nurse>dose>pump",
        "talk@nurse>dose>pump",
        "talk@pump>sync>log",
        "talk@log>sync>pump",
    }
    by_key = {t.key: t for t in threats}
    assert by_key["spoof@nurse"].title == "Nurse can be impersonated"
    assert by_key["sniff@dose"].title == "Dose readable"
    assert by_key["inject@nurse>dose>pump"].subject_ids == ("nurse", "dose", "pump")


def test_exclude_removes_the_threat() -> None:
    m = _model()
    encrypted = model(
        list(m.elements),
        [flow("dose", "nurse", "pump", name="Dose", encrypted=True), m.flow("sync")],
        list(m.boundaries),
    )
    keys = {t.key for t in enumerate_threats(encrypted, PACK)}
    assert "sniff@dose" not in keys
    assert "spoof@nurse" in keys


def test_tmt_keys_concatenate_ids() -> None:
    tmt = pack(rule("TH1", "source is 'GE.EI'", scope="interaction"), key_style="tmt")
    (threat,) = enumerate_threats(_model(), tmt)
    assert threat.key == "TH1" + "nurse" + "dose" + "pump"


def test_scope_limits_the_work() -> None:
    stats = EnumerationStats()
    threats = enumerate_threats(
        _model(),
        PACK,
        EnumerationScope(elements=frozenset({"log"}), flows=frozenset()),
        stats=stats,
    )
    assert {t.key for t in threats} == {"repudiate-log@log"}
    assert stats.subjects == {"log"}
    assert stats.evaluations == 2


def test_renaming_display_names_keeps_keys() -> None:
    m = _model()
    renamed = model(
        [
            element(
                e.id, e.type, e.kind, e.boundary, name=e.name + " (renamed)", **dict(e.properties)
            )
            for e in m.elements
        ],
        [flow(f.id, f.source, f.target, f.protocol, f.bidirectional, name="x") for f in m.flows],
        list(m.boundaries),
    )
    assert [t.key for t in enumerate_threats(m, PACK)] == [
        t.key for t in enumerate_threats(renamed, PACK)
    ]


def test_fill_template_leaves_unknown_placeholders() -> None:
    assert fill_template("{flow.nothing} and {other.x}", {}) == "{flow.nothing} and {other.x}"


def test_dangling_flow_is_skipped() -> None:
    m = model([element("a")], [flow("f", "a", "missing")])
    assert [t.key for t in enumerate_threats(m, PACK)] == ["spoof@a"]


# ------------------------------------------------------------------ harm: hazards, essential performance, data


def _harm_model(**flow_extra: object) -> tuple[Model, RulePack]:
    from dataclasses import replace

    from threatdelta.model.model import Asset

    ctrl = replace(
        element("ctrl", "process", "control-unit"), hazards=("HAZ-1",), essential_performance=True
    )
    cmd = replace(flow("cmd", "app", "ctrl"), **flow_extra)
    m = model([element("app"), ctrl], [cmd])
    m = replace(
        m,
        assets=(
            Asset("glucose", "Glucose readings", "phi", "high", "medium", "low"),
            Asset("dose", "Dose command", "therapy-command", "low", "high", "high"),
        ),
    )
    p = pack(
        rule("t", "flow is 'GE.DF'", scope="flow", stride="T", severity="low"),
        rule("i", "flow is 'GE.DF'", scope="flow", stride="I", severity="low"),
        rule("r", "element is 'GE.P'", scope="element", stride="R", severity="low"),
        rule("d", "element is 'GE.P'", scope="element", stride="D", severity="medium"),
    )
    return m, p


def test_hazards_and_essential_performance_raise_integrity_and_availability_threats() -> None:
    m, p = _harm_model()
    found = {t.key: t for t in enumerate_threats(m, p)}
    tampering = found[
        "t@cmd"
    ]  # acts on the receiver: carries its hazards and essential performance
    assert tampering.hazards == ("HAZ-1",) and tampering.essential_performance
    assert tampering.severity == "high" and tampering.rule_severity == "low"
    assert any("HAZ-1" in r for r in tampering.severity_reasons)
    assert any("essential performance" in r for r in tampering.severity_reasons)
    disclosure = found["i@cmd"]  # reading the flow does not act on the receiver
    assert disclosure.hazards == () and disclosure.severity == "low"
    assert disclosure.rule_severity is None
    assert found["d@ctrl"].severity == "high"
    assert found["r@ctrl"].severity == "low" and found["r@ctrl"].hazards == ("HAZ-1",)


def test_data_assets_raise_the_threat_to_their_need() -> None:
    m, p = _harm_model(data=("glucose",))
    found = {t.key: t for t in enumerate_threats(m, p)}
    assert found["i@cmd"].assets == ("glucose",)
    assert found["i@cmd"].severity == "high"  # phi: confidentiality need high
    assert any("phi" in r for r in found["i@cmd"].severity_reasons)
    # a process handles the data of its flows
    assert found["d@ctrl"].assets == ("glucose",)
    m2, _ = _harm_model(data=("dose",))
    found2 = {t.key: t for t in enumerate_threats(m2, p)}
    assert found2["i@cmd"].severity == "low"  # a dose command needs little confidentiality


def test_placeholders_filled_when_read_keep_braces_and_unknown_names() -> None:
    from threatdelta.model.graph import facts
    from threatdelta.subjects import SubjectFactory
    from threatdelta.threat import Text

    m = _model()
    texts = (
        "{element.name} {{not}} {element.nothing} {other.x} {flow.name} } {",
        "plain text with no placeholder",
        "{element.name}{element.name}",
        "{element.kind} {element.sanitizes_input}",
    )
    rules = [rule(f"r{i}", "element is 'GE.P'", title=text) for i, text in enumerate(texts)]
    factory = SubjectFactory.for_pack(facts(m), PACK)
    pump = {"element": factory.element(m.element("pump"))}
    found = {t.rule_id: t for t in enumerate_threats(m, pack(*rules))}
    for i, text in enumerate(texts):
        assert found[f"r{i}"].title == fill_template(text, pump)
    assert found["r0"].title == "Pump {{not}} {element.nothing} {other.x} {flow.name} } {"
    assert found["r3"].title == "generic False"
    # A text without placeholders is the rule's own string, shared by its threats.
    assert found["r1"].title is rules[1].title
    assert isinstance(found["r0"]._part.title, Text)
