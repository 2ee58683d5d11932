"""A review that re-runs rules only where the change reached says exactly what a review that
enumerates the head in full says: same JSON, same comment, same verdict."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.review.conftest import GitRepo

from threatdelta.context import Overrides
from threatdelta.engine import EnumerationStats
from threatdelta.git import Repo
from threatdelta.history.cache import HistoryCache
from threatdelta.render.comment import review_comment
from threatdelta.render.review_data import review_set_data
from threatdelta.render.review_text import review_text
from threatdelta.review.revisions import review_revisions

TODAY = dt.date(2026, 11, 25)
TYPES = ("external-entity", "process", "data-store")
PROTOCOLS = ("https", "can", "udp", "ble", "ipc", "usb", "ui", "generic")
ELEMENT_PROPS = ("sanitizes_input", "runs_privileged", "stores_logs", "encrypted")
FLOW_PROPS = ("authenticated", "encrypted", "integrity_protected")
STATUSES = ("mitigated", "accepted", "not-applicable")
RULES = ("process-tampering", "process-spoofing", "entity-spoofing", "store-tampering", "flow-dos")
INTERACTION_RULES = ("untrusted-input", "radio-replay", "crossing-tampering")


def _decided_key(
    draw: st.DrawFn, elements: list[dict[str, Any]], flows: list[dict[str, Any]]
) -> str:
    """A key a decision may be written under: an element's or a flow's, a flow direction's
    (either way), or one that names no place of the model."""
    kind = draw(st.sampled_from(("subject", "subject", "direction", "nowhere")))
    if kind == "direction" and flows:
        f = draw(st.sampled_from(flows))
        ends = (f["from"], f["to"]) if draw(st.booleans()) else (f["to"], f["from"])
        return f"{draw(st.sampled_from(INTERACTION_RULES))}@{ends[0]}>{f['id']}>{ends[1]}"
    if kind == "nowhere":
        return draw(
            st.sampled_from(
                ("process-tampering@nowhere", "untrusted-input@e0>f9>e1", "no-such-rule@e0")
            )
        )
    subject = draw(st.sampled_from([e["id"] for e in elements] + [f["id"] for f in flows]))
    return f"{draw(st.sampled_from(RULES))}@{subject}"


def _props(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, bool]:
    return {p: draw(st.booleans()) for p in draw(st.sets(st.sampled_from(names), max_size=2))}


def _disposition(draw: st.DrawFn, controls: list[str]) -> dict[str, Any]:
    status = draw(st.sampled_from(STATUSES))
    if status == "mitigated":
        return {"status": status, "controls": draw(st.lists(st.sampled_from(controls), max_size=2))}
    found: dict[str, Any] = {"status": status, "justification": "Reviewed by the team."}
    if status == "accepted":
        found["approved_by"] = "security-lead"
        if draw(st.booleans()):
            found["expires"] = draw(st.sampled_from(("2026-01-01", "2027-06-30")))
    return found


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    boundaries: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 3))):
        b: dict[str, Any] = {"id": f"b{i}", "kind": draw(st.sampled_from(("network", "device")))}
        if i and draw(st.booleans()):
            b["parent"] = f"b{draw(st.integers(0, i - 1))}"
        boundaries.append(b)
    elements = []
    for i in range(draw(st.integers(1, 6))):
        e: dict[str, Any] = {"id": f"e{i}", "type": draw(st.sampled_from(TYPES))}
        if boundaries and draw(st.booleans()):
            e["boundary"] = draw(st.sampled_from([b["id"] for b in boundaries]))
        props = _props(draw, ELEMENT_PROPS)
        if props:
            e["properties"] = props
        if draw(st.booleans()):
            e["data"] = ["readings"]
        elements.append(e)
    flows = []
    for i in range(draw(st.integers(0, 7))):
        f: dict[str, Any] = {
            "id": f"f{i}",
            "from": f"e{draw(st.integers(0, len(elements) - 1))}",
            "to": f"e{draw(st.integers(0, len(elements) - 1))}",
            "protocol": draw(st.sampled_from(PROTOCOLS)),
        }
        props = _props(draw, FLOW_PROPS)
        if props:
            f["properties"] = props
        if draw(st.booleans()):
            f["data"] = ["readings"]
        if not draw(st.integers(0, 4)):
            f["properties"] = {**f.get("properties", {}), "out_of_scope": True}
        if draw(st.booleans()):
            f["bidirectional"] = True
        flows.append(f)
    controls = [{"id": "tls", "name": "TLS", "status": "verified", "evidence": ["evidence.md"]}]
    threats = {}
    for _ in range(draw(st.integers(0, 4))):
        threats[_decided_key(draw, elements, flows)] = _disposition(draw, ["tls"])
    if draw(st.booleans()):
        # A rename from an earlier change, its decision still written under the old key.
        elements[0]["renamed_from"] = "old0"
        threats[f"{draw(st.sampled_from(RULES))}@old0"] = _disposition(draw, ["tls"])
    model: dict[str, Any] = {
        "version": 1,
        "system": "Pump",
        "assets": [{"id": "readings", "name": "Readings", "classification": "phi"}],
        "boundaries": boundaries,
        "elements": elements,
        "flows": flows,
        "controls": controls,
    }
    if threats:
        model["threats"] = threats
    return model


@st.composite
def edited(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    head: dict[str, Any] = json.loads(json.dumps(base))
    elements, flows, boundaries = head["elements"], head["flows"], head["boundaries"]
    for _ in range(draw(st.integers(1, 3))):
        action = draw(
            st.sampled_from(
                (
                    "element-prop",
                    "flow-prop",
                    "protocol",
                    "move",
                    "reparent",
                    "boundary-kind",
                    "add-flow",
                    "drop-flow",
                    "drop-element",
                    "flow-ends",
                    "data",
                    "flow-data",
                    "rename",
                    "decide",
                    "undecide",
                    "drop-control",
                    "name",
                    "scope-out",
                    "scope-in",
                )
            )
        )
        if action == "element-prop":
            e = draw(st.sampled_from(elements))
            e["properties"] = {**e.get("properties", {}), **_props(draw, ELEMENT_PROPS)}
        elif action == "flow-prop" and flows:
            f = draw(st.sampled_from(flows))
            f["properties"] = {**f.get("properties", {}), **_props(draw, FLOW_PROPS)}
        elif action == "protocol" and flows:
            draw(st.sampled_from(flows))["protocol"] = draw(st.sampled_from(PROTOCOLS))
        elif action == "move" and boundaries:
            e = draw(st.sampled_from(elements))
            e["boundary"] = draw(st.sampled_from([b["id"] for b in boundaries]))
        elif action == "reparent" and len(boundaries) > 1:
            # Only to an earlier boundary, so no cycle is made.
            index = draw(st.integers(1, len(boundaries) - 1))
            boundaries[index]["parent"] = f"b{draw(st.integers(0, index - 1))}"
        elif action == "boundary-kind" and boundaries:
            b = draw(st.sampled_from(boundaries))
            b["kind"] = "device" if b["kind"] == "network" else "network"
        elif action == "add-flow":
            flows.append(
                {
                    "id": f"n{len(flows)}",
                    "from": draw(st.sampled_from(elements))["id"],
                    "to": draw(st.sampled_from(elements))["id"],
                    "protocol": draw(st.sampled_from(PROTOCOLS)),
                }
            )
        elif action == "drop-flow" and flows:
            flows.remove(draw(st.sampled_from(flows)))
        elif action == "drop-element" and len(elements) > 1:
            gone = draw(st.sampled_from(elements))
            elements.remove(gone)
            flows[:] = [f for f in flows if gone["id"] not in (f["from"], f["to"])]
        elif action == "flow-ends" and flows:
            draw(st.sampled_from(flows))["to"] = draw(st.sampled_from(elements))["id"]
        elif action == "data":
            e = draw(st.sampled_from(elements))
            if "data" in e:
                del e["data"]
            else:
                e["data"] = ["readings"]
        elif action == "flow-data" and flows:
            f = draw(st.sampled_from(flows))
            if "data" in f:
                del f["data"]
            else:
                f["data"] = ["readings"]
        elif action == "rename":
            e = draw(st.sampled_from(elements))
            old, new = e["id"], e["id"] + "x"
            if any(x["id"] == new for x in elements):
                continue
            e["id"] = new
            if draw(st.booleans()):
                e["renamed_from"] = old
            for f in flows:
                f["from"] = new if f["from"] == old else f["from"]
                f["to"] = new if f["to"] == old else f["to"]
        elif action == "decide":
            head.setdefault("threats", {})[_decided_key(draw, elements, flows)] = _disposition(
                draw, ["tls"]
            )
        elif action == "undecide" and head.get("threats"):
            del head["threats"][draw(st.sampled_from(sorted(head["threats"])))]
        elif action == "drop-control":
            head["controls"] = []
        elif action == "name":
            draw(st.sampled_from(elements))["name"] = "Renamed"
        elif action == "scope-out" and flows:
            f = draw(st.sampled_from(flows))
            f["properties"] = {**f.get("properties", {}), "out_of_scope": True}
            if draw(st.booleans()):
                f["properties"]["out_of_scope_reason"] = "Factory service port only."
        elif action == "scope-in" and flows:
            draw(st.sampled_from(flows)).get("properties", {}).pop("out_of_scope", None)
    return head


POLICIES = (
    "unaddressed,regressions",
    "unaddressed,regressions,reconfirm",
    "any-open",
    "any-open,severity:high",
    "severity:medium,unverified",
    "max-accepted-severity:high,approvers:security-lead",
    "none",
)


def _settings(policy: str) -> str:
    return "policy: [" + ", ".join(policy.split(",")) + "]\n"


def _reviews(
    base: dict[str, Any],
    head: dict[str, Any],
    policy: str | None = "unaddressed,regressions",
    base_settings: str | None = None,
    head_settings: str | None = None,
) -> tuple[str, str, str, int, int]:
    """``policy``: the ``--fail-on`` override (None: the base's settings file decides);
    ``*_settings``: the policy written in ``.threatdelta.yml`` at each revision."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = GitRepo(Path(tmp) / "repo")
        repo.write("evidence.md", "TLS verified.\n")
        repo.write("threatmodel.yaml", yaml.safe_dump(base, sort_keys=False))
        if base_settings is not None:
            repo.write(".threatdelta.yml", _settings(base_settings))
        base_sha = repo.commit("base")
        repo.write("threatmodel.yaml", yaml.safe_dump(head, sort_keys=False))
        if head_settings is not None:
            repo.write(".threatdelta.yml", _settings(head_settings))
        head_sha = repo.commit("head")
        outputs = []
        registers = []
        evaluations = []
        # Incremental, full, and incremental with a cache of threat indexes: the first run
        # writes the base's index, the second counts the threats outside the change from it.
        cache = HistoryCache(None)
        for incremental, store in ((True, None), (False, None), (True, cache), (True, cache)):
            stats = EnumerationStats()
            result = review_revisions(
                Repo(repo.root),
                base_sha,
                head_sha,
                overrides=Overrides(fail_on=policy),
                today=TODAY,
                stats=stats,
                incremental=incremental,
                index_store=store,
            )
            outputs.append(
                (
                    json.dumps(review_set_data(result), sort_keys=True, default=str),
                    review_comment(result).body + review_text(result),
                )
            )
            evaluations.append(stats.evaluations)
            # Every entry of both registers, the counts and the orphans, not only what is shown
            # (a partial register makes its plain entries when they are read).
            registers.append(
                [
                    (
                        [(e.threat, e.threat.location, e.status, e.problems) for e in r.entries],
                        r.counts(),
                        r.orphans,
                    )
                    for r in (result.reviews[0].base, result.reviews[0].head)
                    if r is not None
                ]
            )
    (json_fast, comment_fast), (json_full, comment_full) = outputs[:2]
    for output, register in zip(outputs[2:], registers[2:], strict=True):
        assert output == outputs[1]
        assert register == registers[1]
    assert registers[0] == registers[1]
    assert comment_fast == comment_full
    return json_fast, json_full, comment_fast, evaluations[0], evaluations[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_incremental_review_says_what_a_full_review_says(data: st.DataObject) -> None:
    base = data.draw(models())
    head = data.draw(edited(base))
    # The gate's policy from --fail-on, or from the settings file (which the change may edit).
    policy = data.draw(st.sampled_from((None, *POLICIES)))
    base_settings = data.draw(st.sampled_from((None, *POLICIES)))
    head_settings = data.draw(st.sampled_from((base_settings, *POLICIES)))
    json_fast, json_full, _, fast, full = _reviews(base, head, policy, base_settings, head_settings)
    assert json_fast == json_full
    assert fast <= full


def test_a_one_element_change_evaluates_rules_on_that_element_and_its_flows_only() -> None:
    elements = [{"id": f"e{i}", "type": "process"} for i in range(20)]
    flows = [
        {"id": f"f{i}", "from": f"e{i}", "to": f"e{(i + 1) % 20}", "protocol": "https"}
        for i in range(20)
    ]
    base = {"version": 1, "system": "S", "elements": elements, "flows": flows}
    head = json.loads(json.dumps(base))
    head["elements"][5]["properties"] = {"sanitizes_input": True}
    json_fast, json_full, comment, fast, full = _reviews(base, head)
    assert json_fast == json_full
    assert "process-tampering@e5" in json_fast or "e5" in comment
    # e5 and the flows f4 (into it) and f5 (out of it): under a tenth of the full work.
    assert 0 < fast * 10 < full


def test_a_decision_carried_through_an_earlier_rename_counts_on_an_untouched_element() -> None:
    # e0 was renamed from old0 by an earlier change; its decision is still written under the old
    # key, so the threat has a disposition although none is written under its own key.
    base = {
        "version": 1,
        "system": "S",
        "elements": [
            {"id": "e0", "type": "process", "renamed_from": "old0"},
            {"id": "e1", "type": "process"},
        ],
        "flows": [],
        "threats": {
            "process-tampering@old0": {
                "status": "not-applicable",
                "justification": "Reviewed by the team.",
            }
        },
    }
    head = json.loads(json.dumps(base))
    head["elements"][1]["properties"] = {"sanitizes_input": True}
    json_fast, json_full, _, _, _ = _reviews(base, head, "any-open")
    assert json_fast == json_full
    assert '"not-applicable": 1' in json_fast
