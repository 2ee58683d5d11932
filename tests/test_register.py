import dataclasses
import datetime as dt

from tests.helpers import element, model

from threatdelta.model.model import Control, Disposition
from threatdelta.register import Entry, build_register, is_repository_path
from threatdelta.threat import Threat

TODAY = dt.date(2026, 11, 25)


def _threat(key: str) -> Threat:
    return Threat(
        key=key, rule_id=key.split("@")[0], stride="S", title=key, scope="element", element="a"
    )


def _register(
    dispositions: list[Disposition],
    controls: tuple[Control, ...] = (),
    existing: set[str] | None = None,
):
    m = model([element("a")], controls=list(controls), dispositions=dispositions)
    threats = [_threat(f"r{i}@a") for i in range(1, 8)]
    check = None if existing is None else (lambda p: p in existing)
    return build_register(m, threats, today=TODAY, evidence_exists=check)


def _codes(register, key: str) -> list[str]:
    return [p.code for p in register.entry(key).problems]


VERIFIED = Control("tls", "TLS", "verified", ("tests/test_tls.py", "PT-2026-03#F-4"))


def test_no_disposition_is_open_and_unaddressed() -> None:
    reg = _register([])
    entry = reg.entry("r1@a")
    assert entry.status == "open" and not entry.addressed
    assert reg.counts()["open"] == 7 and reg.counts()["unaddressed"] == 7


def test_a_threat_without_a_disposition_has_the_entry_an_open_threat_is_given() -> None:
    decided = Disposition("r2@a", "accepted", justification="Fine.", approved_by="lead")
    reg = _register([decided])
    threats = {e.key: e.threat for e in reg.entries}
    assert [e.key for e in reg.entries] == sorted(threats)
    for entry in reg.entries:
        if entry.key != "r2@a":
            assert entry == Entry(threats[entry.key], "open", None, (), ())
            assert repr(entry) == repr(Entry(threats[entry.key], "open", None, (), ()))


def test_mitigated_with_verified_control_and_existing_evidence() -> None:
    reg = _register(
        [Disposition("r1@a", "mitigated", controls=("tls",))], [VERIFIED], {"tests/test_tls.py"}
    )
    entry = reg.entry("r1@a")
    assert entry.addressed and entry.problems == ()
    assert [c.id for c in entry.controls] == ["tls"]


def test_mitigation_problems() -> None:
    planned = Control("mac", "MAC", "planned")
    reg = _register(
        [
            Disposition("r1@a", "mitigated"),
            Disposition("r2@a", "mitigated", controls=("nope",)),
            Disposition("r3@a", "mitigated", controls=("mac",)),
            Disposition("r4@a", "mitigated", controls=("tls",)),
        ],
        [planned, VERIFIED],
        existing=set(),
    )
    assert _codes(reg, "r1@a") == ["no-controls"] and not reg.entry("r1@a").addressed
    assert _codes(reg, "r2@a") == ["unknown-control"] and not reg.entry("r2@a").addressed
    assert _codes(reg, "r3@a") == ["control-planned", "no-evidence"]
    assert reg.entry("r3@a").addressed  # planned control: flagged, but the decision stands
    assert _codes(reg, "r4@a") == ["missing-evidence"]  # the report id is not a path
    assert "tests/test_tls.py" in reg.entry("r4@a").problems[0].message


def test_acceptance_problems_and_expiry() -> None:
    reg = _register(
        [
            Disposition(
                "r1@a",
                "accepted",
                justification="Needs the case opened.",
                approved_by="lead",
                expires=dt.date(2027, 6, 30),
            ),
            Disposition("r2@a", "accepted"),
            Disposition(
                "r3@a",
                "accepted",
                justification="x",
                approved_by="lead",
                expires=dt.date(2026, 11, 24),
            ),
            Disposition(
                "r4@a",
                "accepted",
                justification="x",
                approved_by="lead",
                expires=dt.date(2027, 1, 10),
            ),
            Disposition(
                "r5@a",
                "transferred",
                justification="Hospital IT runs the network.",
                approved_by="lead",
            ),
            Disposition("r6@a", "not-applicable"),
            Disposition("r7@a", "open", needs_investigation=True),
        ]
    )
    assert reg.entry("r1@a").addressed and _codes(reg, "r1@a") == []
    assert _codes(reg, "r2@a") == ["missing-approver", "missing-justification"]
    assert not reg.entry("r2@a").addressed
    assert _codes(reg, "r3@a") == ["expired"] and not reg.entry("r3@a").addressed
    assert _codes(reg, "r4@a") == ["expiring"] and reg.entry("r4@a").addressed
    assert _codes(reg, "r5@a") == ["missing-recipient"]
    assert _codes(reg, "r6@a") == ["missing-justification"]
    assert _codes(reg, "r7@a") == ["needs-investigation"] and reg.entry("r7@a").status == "open"


def test_orphaned_dispositions_are_reported() -> None:
    reg = _register([Disposition("gone@a", "mitigated", controls=("tls",))], [VERIFIED])
    assert [o.disposition.key for o in reg.orphans] == ["gone@a"]
    assert "orphaned" in reg.orphans[0].message


def test_stored_threats_join_the_register() -> None:
    stored = Threat(
        key="td:1",
        rule_id="threat-dragon",
        stride="T",
        title="stored",
        scope="element",
        element="a",
    )
    m = model(
        [element("a")], dispositions=[Disposition("td:1", "not-applicable", justification="n/a")]
    )
    m = dataclasses.replace(m, stored_threats=(stored,))
    reg = build_register(m, [], today=TODAY)
    assert reg.entry("td:1").status == "not-applicable" and reg.orphans == ()


def test_repository_path_or_report_id() -> None:
    assert is_repository_path("tests/security/test_tls.py")
    assert is_repository_path("README.md")
    assert is_repository_path("docs/pt-report.pdf#F-4")
    assert not is_repository_path("PT-2026-03#F-4")
    assert not is_repository_path("JIRA-1234")


def test_placeholders_from_a_suggested_skeleton_never_address_a_threat() -> None:
    skeleton_control = Control("mac", "Message authentication", "verified", ("tests/test_mac.py",))
    reg = _register(
        [
            Disposition("r1@a", "mitigated", controls=("CONTROL-ID",)),
            Disposition(
                "r2@a",
                "accepted",
                justification="Why the residual risk is acceptable.",
                approved_by="security-lead",
            ),
            Disposition(
                "r3@a", "accepted", justification="The bus is internal.", approved_by="WHO"
            ),
            Disposition(
                "r4@a",
                "transferred",
                justification="Why someone else carries this risk. Hospital IT runs it.",
                approved_by="it-lead",
                transferred_to="WHOM",
            ),
            Disposition("r5@a", "not-applicable", justification="Why this threat does not apply."),
            Disposition("r6@a", "mitigated", controls=("mac",)),
            Disposition("r7@a", "accepted", justification="Internal bus only.", approved_by="lead"),
        ],
        [skeleton_control, Control("CONTROL-ID", "defined anyway", "verified", ("tests/x.py",))],
        existing={"tests/test_mac.py", "tests/x.py"},
    )
    for key in ("r1@a", "r2@a", "r3@a", "r4@a", "r5@a"):
        entry = reg.entry(key)
        assert "placeholder" in _codes(reg, key) and not entry.addressed, key
    assert "WHO" in reg.entry("r3@a").problems[0].message
    assert reg.entry("r6@a").addressed and reg.entry("r7@a").addressed  # written by a person


def test_a_control_whose_text_is_a_placeholder_does_not_mitigate() -> None:
    unwritten = Control("mac", "Message authentication", "verified", ("YYYY-MM-DD",))
    reg = _register([Disposition("r1@a", "mitigated", controls=("mac",))], [unwritten], set())
    assert "placeholder" in _codes(reg, "r1@a") and not reg.entry("r1@a").addressed


# ------------------------------------------------------------------ risk before and after controls

IMPLEMENTED = Control("mac", "MACs", "implemented", ("tests/test_mac.py",))


def test_risk_comes_from_the_matrix_and_controls_lower_the_residual() -> None:
    register = _register(
        [
            Disposition("r1@a", "mitigated", controls=("tls",)),
            Disposition("r2@a", "mitigated", controls=("mac",)),
            Disposition("r3@a", "accepted", justification="ok", approved_by="me"),
            Disposition("r4@a", "not-applicable", justification="no such port"),
        ],
        controls=(VERIFIED, IMPLEMENTED),
    )
    # every test threat is medium severity, medium exploitability: medium risk
    by_key = register.by_key()
    assert {e.risk for e in register.entries} == {"medium"}
    assert (by_key["r1@a"].residual_exploitability, by_key["r1@a"].residual_risk) == ("low", "low")
    assert (by_key["r2@a"].residual_exploitability, by_key["r2@a"].residual_risk) == ("low", "low")
    assert by_key["r3@a"].residual_risk == "medium"
    assert by_key["r4@a"].residual_risk == "none"
    assert by_key["r5@a"].residual_risk == "medium"  # open


def test_a_mitigation_that_does_not_hold_lowers_nothing() -> None:
    register = _register([Disposition("r1@a", "mitigated", controls=("nope",))])
    entry = register.entry("r1@a")
    assert entry is not None and not entry.addressed
    assert entry.residual_risk == entry.risk


def test_a_disposition_may_override_exploitability_and_severity_or_give_a_cvss_vector() -> None:
    register = _register(
        [
            Disposition(
                "r1@a",
                "open",
                exploitability="high",
                severity="critical",
                rationale="reachable from the internet; therapy stops",
            ),
            Disposition("r2@a", "open", cvss="CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Disposition(
                "r3@a",
                "open",
                exploitability="medium",
                cvss="CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                rationale="x",
            ),
        ]
    )
    first, second, third = (register.entry(k) for k in ("r1@a", "r2@a", "r3@a"))
    assert first is not None and second is not None and third is not None
    assert (first.exploitability, first.severity, first.risk) == ("high", "critical", "critical")
    assert second.cvss is not None and second.cvss.base_score == 6.8
    assert second.exploitability == "low"  # physical access, from the vector
    assert second.risk == "low"
    assert third.exploitability == "medium"  # the team's word wins over the vector
