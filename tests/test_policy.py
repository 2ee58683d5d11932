import pytest

from threatdelta.errors import InputError
from threatdelta.policy import Policy, parse_policy, register_verdict, review_verdict
from threatdelta.register import Entry
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
