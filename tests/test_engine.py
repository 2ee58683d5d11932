from tests.helpers import boundary, element, flow, model, pack, rule

from threatdelta.engine import EnumerationScope, EnumerationStats, enumerate_threats, fill_template


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
