import pytest

from threatdelta.errors import InputError
from threatdelta.model.model import Control, Disposition
from threatdelta.policy import Policy, parse_policy, register_verdict, review_verdict
from threatdelta.register import Entry, Problem
from threatdelta.threat import Threat


def _entry(key: str, severity: str = "medium", status: str = "open") -> Entry:
    threat = Threat(key=key, rule_id="r", stride="S", title=key, scope="element", severity=severity)
    return Entry(threat, status, None, (), ())


def test_parse_conditions() -> None:
    assert parse_policy(["unaddressed,regressions"]) == Policy(unaddressed=True, regressions=True)
    assert parse_policy(["open"]) == Policy(any_open=True)
    assert parse_policy(["severity:high", "severity:medium"]).min_severity == "medium"
    assert parse_policy(["none"]) == Policy()
    assert parse_policy(["unaddressed", "any-open"]).describe() == "unaddressed,any-open"
    with pytest.raises(InputError):
        parse_policy(["severity:extreme"])


def test_check_verdicts() -> None:
    entries = [_entry("a", "low"), _entry("b", "high", "mitigated")]
    assert not register_verdict(entries, parse_policy(["open"])).passed
    assert register_verdict(entries, parse_policy(["severity:medium"])).passed
    assert register_verdict(entries, parse_policy(["none"])).passed


def test_review_verdicts() -> None:
    in_scope = [_entry("a", "low")]
    everything = [*in_scope, _entry("b", "critical")]
    assert not review_verdict(in_scope, everything, 0, parse_policy(["unaddressed"])).passed
    assert review_verdict([], everything, 0, parse_policy(["unaddressed"])).passed
    assert not review_verdict([], everything, 0, parse_policy(["any-open"])).passed
    assert not review_verdict([], [], 2, parse_policy(["regressions"])).passed
    assert review_verdict([], [], 2, parse_policy(["unaddressed"])).passed
    scoped = review_verdict(in_scope, everything, 0, parse_policy(["severity:high"]))
    assert scoped.passed  # only the changed scope counts without any-open
    assert not review_verdict(
        in_scope, everything, 0, parse_policy(["any-open,severity:high"])
    ).passed


def test_parse_decision_conditions() -> None:
    policy = parse_policy(
        ["unverified,max-accepted-severity:high", "approvers:security-lead,approvers:QA Lead"]
    )
    assert policy.unverified and policy.max_accepted_severity == "high"
    assert policy.approvers == ("security-lead", "QA Lead")
    assert parse_policy([policy.describe()]) == policy
    assert (
        parse_policy(["max-accepted-severity:high,max-accepted-severity:low"]).max_accepted_severity
        == "low"
    )
    for bad in ("max-accepted-severity:huge", "approvers:", "verified"):
        with pytest.raises(InputError):
            parse_policy([bad])


def _decided(key: str, severity: str, status: str, approver: str) -> Entry:
    threat = Threat(key=key, rule_id="r", stride="S", title=key, scope="element", severity=severity)
    disposition = Disposition(key, status, justification="Written.", approved_by=approver)  # type: ignore[arg-type]
    return Entry(threat, status, disposition, (), ())  # type: ignore[arg-type]


def test_acceptances_at_or_above_the_limit_fail() -> None:
    policy = parse_policy(["max-accepted-severity:high"])
    high = _decided("a", "high", "accepted", "lead")
    medium = _decided("b", "medium", "accepted", "lead")
    transferred = _decided("c", "critical", "transferred", "lead")
    assert not review_verdict([], [], 0, policy, decided=[high]).passed
    assert review_verdict([], [], 0, policy, decided=[medium, transferred]).passed
    assert "severity high or higher" in review_verdict([], [], 0, policy, decided=[high]).reasons[0]


def test_approved_by_must_name_one_of_the_approvers() -> None:
    policy = parse_policy(["approvers:security-lead", "approvers:quality-manager"])
    ok = _decided("a", "high", "accepted", "Security-Lead")
    other = _decided("b", "low", "transferred", "a developer")
    na = _decided("c", "low", "not-applicable", "")
    assert review_verdict([], [], 0, policy, decided=[ok, na]).passed
    failed = review_verdict([], [], 0, policy, decided=[ok, other])
    assert not failed.passed and "security-lead, quality-manager" in failed.reasons[0]


def test_unverified_mitigations_fail_only_under_the_condition() -> None:
    threat = Threat(key="a", rule_id="r", stride="S", title="a", scope="element")
    planned = Control("mac", "MAC", "planned")
    entry = Entry(
        threat,
        "mitigated",
        Disposition("a", "mitigated", controls=("mac",)),
        (planned,),
        (
            Problem("control-planned", "planned", "mac"),
            Problem("no-evidence", "none", "mac"),
        ),
    )
    assert entry.addressed
    assert review_verdict([], [entry], 0, parse_policy(["unaddressed"]), touched=[entry]).passed
    failed = review_verdict([], [entry], 0, parse_policy(["unverified"]), touched=[entry])
    assert not failed.passed and "planned or lack evidence" in failed.reasons[0]
    assert not register_verdict([entry], parse_policy(["unverified"])).passed


def test_flows_out_of_scope_without_a_reason_fail_like_unjustified_decisions() -> None:
    from threatdelta.model.model import Flow

    flows = [
        Flow(id=f"f{n}", name=f"F{n}", source="a", target="b", out_of_scope=True) for n in range(5)
    ]
    unaddressed, any_open = parse_policy(["unaddressed"]), parse_policy(["any-open"])
    assert not register_verdict([], unaddressed, unexplained=flows[:1]).passed
    assert register_verdict([], parse_policy(["regressions"]), unexplained=flows).passed
    verdict = review_verdict([], [], 0, unaddressed, unexplained=flows)
    assert verdict.reasons == (
        "5 flows are marked out of scope without a written reason ('F0', 'F1', 'F2' and 2 more):"
        " taking threats out of scope is a decision, so write why",
    )
    # an older one, not made by this change, counts only for any-open
    assert review_verdict([], [], 0, unaddressed, unexplained_anywhere=flows).passed
    assert not review_verdict([], [], 0, any_open, unexplained_anywhere=flows).passed
