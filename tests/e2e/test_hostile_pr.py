"""A hostile pull-request author against the whole pipeline (``threatdelta github`` on a real git
repository, PyGithub against the fake GitHub): nothing in the change may lower its own gate or make
the comment say something false."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from tests.e2e.harness import Harness, RunResult, model
from tests.formats.fixtures.tm7.fidelity_fixtures import FLOW_1, FLOW_2, Connector, fidelity_tm7
from tests.formats.fixtures.tm7.review_fixtures import (
    DOSE,
    TELEMETRY,
    Drawing,
    Stored,
    key,
    review_tm7,
    stored_as_generated,
)
from tests.render.gfm import render

from threatdelta.cli import main
from threatdelta.render.escape import code

TM7 = "models/pump.tm7"


def _commit_bytes(harness: Harness, files: dict[str, bytes], message: str) -> str:
    for name, data in files.items():
        path = harness.repo.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return harness.repo.commit({}, message)


# --- 4. the template a .tm7 carries, and Out Of Scope ---------------------------------------

_CROSSING = ("TV1", "TV2", "TV3")
"""Threat types whose filter asks for a crossing of the Device boundary."""


def _inside_threats() -> tuple[Stored, ...]:
    """What the tool stores while the nurse is drawn inside Device: no crossing threats on Dose
    entry, and its TV5 already mitigated."""
    kept = [s for s in stored_as_generated() if not (s.flow == DOSE and s.rule in _CROSSING)]
    return tuple(
        Stored(s.rule, s.flow, "Mitigated", "Badge login on the pump.")
        if (s.rule, s.flow) == ("TV5", DOSE)
        else s
        for s in kept
    )


def test_editing_the_template_inside_a_tm7_cannot_hide_the_threats_of_the_change(
    harness: Harness,
) -> None:
    settings = f"models: [{TM7}]\n".encode()
    base_tm7 = review_tm7(Drawing(nurse_inside=True, threats=_inside_threats()))
    base = _commit_bytes(harness, {TM7: base_tm7, ".threatdelta.yml": settings}, "base")
    # The change moves the nurse out of the device (Dose entry now crosses it) and rewrites the
    # embedded template so that no filter asks for that crossing any more.
    head_tm7 = review_tm7(Drawing(threats=_inside_threats())).replace(
        b"flow crosses 'GE.TB.B'", b"flow crosses 'GE.TB.NONE'"
    )
    head = _commit_bytes(harness, {TM7: head_tm7}, "nurse outside, template rewritten")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    (comment,) = harness.comments()
    body = comment.body
    assert "❌ threatdelta" in body
    for rule in _CROSSING:
        assert code(key(rule, DOSE)) in body
    assert "**Gate settings changed.**" in body
    assert f"the template embedded in {TM7} is edited" in body
    # the base's template still generates Telemetry's crossing threat: nothing was resolved
    assert "the rule no longer matches" not in body


_DEBUG_FLOW = """\
  - {{id: debug, name: Debug port, from: nurse, to: controller, protocol: tcp,
     properties: {{out_of_scope: true{reason}}}}}
"""


def _scoping(harness: Harness, reason: str) -> RunResult:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    flow = _DEBUG_FLOW.format(
        reason=f", out_of_scope_reason: {json.dumps(reason)}" if reason else ""
    )
    head = harness.repo.commit({"threatmodel.yaml": model(flows=flow)}, "debug port")
    harness.open_pull(base, head)
    return harness.run(base, head)


def test_a_new_flow_drawn_out_of_scope_shows_its_threats_among_the_risk_decisions(
    harness: Harness,
) -> None:
    result = _scoping(harness, "Sealed at the factory; no connector on the case.")

    assert result.code == 0
    (comment,) = harness.comments()
    decisions = comment.body.split("**Risk decisions in this change** (4)", 1)[1]
    for threat in ("crossing-sniffing@nurse>debug>controller", "flow-dos@debug"):
        row = next(ln for ln in decisions.splitlines() if code(threat) in ln)
        assert "**out-of-scope**" in row and "Sealed at the factory" in row
        assert "was open" not in row  # the base never had it
    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    scoped = [d for d in report["decisions"] if d["status"] == "out-of-scope"]
    assert len(scoped) == 4 and all(d["before"] is None for d in scoped)


def test_a_new_flow_out_of_scope_without_a_reason_fails_the_gate(harness: Harness) -> None:
    result = _scoping(harness, "")

    assert result.code == 1
    (comment,) = harness.comments()
    assert "❌ threatdelta" in comment.body
    assert "1 flow is marked out of scope without a written reason ('Debug port')" in comment.body
    assert "(no reason given)" in comment.body


def test_a_tm7_flow_marked_out_of_scope_cannot_hide_its_threats(harness: Harness) -> None:
    settings = f"models: [{TM7}]\n".encode()
    base_tm7 = fidelity_tm7((Connector(FLOW_1, "Request"),), box="GE.TB.B")
    base = _commit_bytes(harness, {TM7: base_tm7, ".threatdelta.yml": settings}, "base")
    head_tm7 = fidelity_tm7(
        (Connector(FLOW_1, "Request", out_of_scope=True), Connector(FLOW_2, "Debug", True)),
        box="GE.TB.B",
    )
    head = _commit_bytes(harness, {TM7: head_tm7}, "both flows out of scope")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    decisions = comment.body.split("**Risk decisions in this change**", 1)[1]
    rows = [ln for ln in decisions.split("\n\n", 2)[1].splitlines() if "out-of-scope" in ln]
    assert any(FLOW_1 in r and "was open" in r for r in rows)
    assert any(FLOW_2 in r and "was open" not in r for r in rows)
    assert all("(no reason given)" in r for r in rows)
    assert "2 flows are marked out of scope without a written reason" in comment.body


# --- 2. decisions: placeholders, look-alike approvers, expiry --------------------------------

_ACCEPT_SPOOFING = """\
  entity-spoofing@nurse:
    status: accepted
    justification: The badge reader at the ward door checks every nurse.
    approved_by: {who}
    expires: {expires}
"""


def _accepting(who: str, expires: str = "2027-06-30") -> str:
    return model(threats=_ACCEPT_SPOOFING.format(who=json.dumps(who), expires=expires))


def _review_decision(harness: Harness, head_text: str, settings: str = "") -> RunResult:
    files = {"threatmodel.yaml": model()}
    if settings:
        files[".threatdelta.yml"] = settings
    base = harness.repo.commit(files, "base")
    head = harness.repo.commit({"threatmodel.yaml": head_text}, "accept")
    harness.open_pull(base, head)
    return harness.run(base, head)


@pytest.mark.parametrize(
    "who",
    [
        "who",
        " WHO ",
        "Who",
        "TBD",
        "todo",
        "n/a",
        "W\u200bHO",
        "\u200b\u200e",
        "ＷＨＯ",
        "W\u041d\u041e",
    ],
)
def test_an_approver_that_is_still_a_placeholder_never_counts(harness: Harness, who: str) -> None:
    result = _review_decision(harness, _accepting(who))

    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    (comment,) = harness.comments()
    assert "❌ threatdelta" in comment.body
    assert "1 threat touched by this change has neither" in comment.body
    assert "`entity-spoofing@nurse`" in comment.body.split("**Needs a decision**", 1)[1]


def test_a_named_approver_is_a_decision_shown_in_plain_sight(harness: Harness) -> None:
    result = _review_decision(harness, _accepting("Dr. Jane Whoever"))

    assert result.code == 0
    (comment,) = harness.comments()
    decisions = comment.body.split("**Risk decisions in this change** (1)", 1)[1]
    row = next(ln for ln in decisions.splitlines() if "`entity-spoofing@nurse`" in ln)
    assert "**accepted**" in row and "Dr. Jane Whoever" in row and "2027-06-30" in row


APPROVERS = "policy: [unaddressed, regressions, reconfirm, approvers: [security-lead]]\n"


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("\u0455ecurity-lead", "U+0455 CYRILLIC SMALL LETTER DZE"),
        ("security\u2010lead", "U+2010 HYPHEN"),
        ("security-1ead", "'security-1ead'"),
    ],
)
def test_a_look_alike_of_an_approver_fails_the_gate_and_is_spelled_out(
    harness: Harness, who: str, shown: str
) -> None:
    result = _review_decision(harness, _accepting(who), APPROVERS)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "not one of the approvers (security-lead)" in comment.body
    assert shown in comment.body


@pytest.mark.parametrize(
    "who", ["security-lead", "Security-Lead", "SECURITY-LEAD", "security-lead\u200b"]
)
def test_the_approver_named_by_the_base_passes_whatever_its_case(
    harness: Harness, who: str
) -> None:
    assert _review_decision(harness, _accepting(who), APPROVERS).code == 0


def test_an_acceptance_that_already_expired_is_a_regression(harness: Harness) -> None:
    result = _review_decision(harness, _accepting("security-lead", "2020-01-31"))

    assert result.code == 1
    (comment,) = harness.comments()
    assert "the justification expired on 2020-01-31" in comment.body


@pytest.mark.parametrize(
    "expires", ["31/12/2027", "2027-13-45", "20271231", "'never'", "YYYY-MM-DD"]
)
def test_an_expiry_that_is_not_a_date_is_refused_at_its_line(
    harness: Harness, expires: str
) -> None:
    result = _review_decision(harness, _accepting("security-lead", expires))

    assert result.code == 2
    assert "threatmodel.yaml:18:14:" in result.stderr
    (comment,) = harness.comments()
    assert "✅" not in comment.body


def test_an_acceptance_without_an_approver_never_counts(harness: Harness) -> None:
    head_text = _accepting("x").replace('    approved_by: "x"\n', "")
    assert "approved_by" not in head_text
    result = _review_decision(harness, head_text)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "`entity-spoofing@nurse`" in comment.body.split("**Needs a decision**", 1)[1]


# --- 6. hostile text in every field ----------------------------------------------------------

_SHORT = (
    "x\n### ✅ passed\n<!-- threatdelta:sticky name=default -->[l](https://e.example)"
    "![i](https://e.example/i.png)@octocat #1 \u202eexe.\u202c```\n`c`<b>b</b>|c|%%{init:{}}%%"
)
"""Fits an id's 200-character cap: a name, a system, an evidence item."""
_LONG = (
    _SHORT + " <details><summary>s</summary> <https://e.example> @org/team GH-2 :+1: \u200b"
    " \u2066 ${{ secrets.TOKEN }}\n::set-output name=verdict::pass\n::error file=README.md::x"
)
"""For free text: descriptions, justifications, approvers, reasons."""


def _hostile_everywhere() -> str:
    s, t = json.dumps(_SHORT), json.dumps(_LONG)
    return f"""\
version: 1
system: {s}
description: {t}
boundaries:
  - {{id: device, name: {s}, kind: device, description: {t}}}
elements:
  - {{id: nurse, name: {s}, type: external-entity, kind: person, description: {t}}}
  - {{id: controller, name: {s}, type: process, kind: control-unit, boundary: device,
     properties: {{sanitizes_input: true}}}}
flows:
  - {{id: dose, name: {s}, from: nurse, to: controller, protocol: https, description: {t},
     properties: {{authenticated: true, encrypted: true, integrity_protected: true}}}}
  - {{id: evil, name: {s}, from: nurse, to: controller, protocol: tcp}}
  - {{id: scoped, name: {s}, from: controller, to: nurse, protocol: tcp,
     properties: {{out_of_scope: true, out_of_scope_reason: {t}}}}}
controls:
  - {{id: ctl, name: {s}, status: planned, description: {t}, evidence: [{s}]}}
threats:
  entity-spoofing@nurse:
    {{status: accepted, justification: {t}, approved_by: {t}, expires: 2027-01-01}}
  flow-dos@evil:
    {{status: transferred, justification: {t}, approved_by: {t}, transferred_to: {t}}}
  process-dos@controller: {{status: not-applicable, justification: {t}}}
  process-spoofing@controller: {{status: mitigated, controls: [ctl]}}
  orphan@nowhere: {{status: accepted, justification: {t}, approved_by: {t}}}
"""


def test_hostile_text_in_every_field_is_inert_in_every_output(harness: Harness) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit({"threatmodel.yaml": _hostile_everywhere()}, "hostile")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    for name, body in (("comment", comment.body), ("job summary", result.summary)):
        rendered = render(body)
        assert rendered.links == [], name
        assert not {"img", "b", "a", "script"} & set(rendered.tags), name
        assert rendered.live_references() == [], name
        assert rendered.hidden_characters() == [], name
        # one verdict heading, the bot's own, and no forged marker
        headings = [ln for ln in body.splitlines() if ln.startswith("#")]
        assert headings[0].startswith("### ❌ threatdelta:"), name
        assert not any("✅" in h for h in headings), name
        assert body.count("<!-- threatdelta:sticky") == (1 if name == "comment" else 0), name
        # every fence is the template's own, each closed
        fences = [ln for ln in body.splitlines() if ln.startswith("```")]
        assert all(f in ("```", "```yaml", "```mermaid") for f in fences), name
        assert len(fences) % 2 == 0, name
    # the hostile acceptances are still shown, in plain sight
    assert "`entity-spoofing@nurse`" in comment.body.split("**Risk decisions in this change**")[1]
    # the log: only threatdelta's own workflow commands, outputs untouched
    log = result.stdout + result.stderr
    for line in log.splitlines():
        assert not line.lstrip().startswith("::") or re.match(
            r"::(error|warning|notice) file=threatmodel\.yaml,", line
        ), line
    assert "\u202e" not in log and "\u200b" not in log
    assert result.outputs["verdict"] == "fail"
    assert "secrets.TOKEN" not in result.outputs_text


# --- 5. evidence, implemented_by, protocols ----------------------------------------------------

UNVERIFIED = "policy: [unaddressed, regressions, reconfirm, unverified]\n"
_MITIGATED = "  flow-dos@dose: {status: mitigated, controls: [tls]}\n"


def _tls(evidence: str) -> str:
    return f"  - {{id: tls, name: TLS, status: verified, evidence: [{evidence}]}}\n"


@pytest.mark.parametrize(
    "evidence",
    [
        "tests/leak.py",  # a committed symbolic link to /etc/passwd
        "tests/up/passwd",  # a committed symbolic link to a folder outside
        "/etc/passwd",
        "../outside.py",
        "tests/ok.py/../../../etc/passwd",
        "vendor/sub/tests/test_tls.py",  # inside a submodule: not in this repository's objects
        "vendor/sub",
    ],
)
def test_evidence_outside_the_repository_never_verifies_a_mitigation(
    harness: Harness, evidence: str
) -> None:
    base = harness.repo.commit(
        {
            ".threatdelta.yml": UNVERIFIED,
            "tests/ok.py": "def test_ok() -> None: ...\n",
            "threatmodel.yaml": model(),
        },
        "base",
    )
    (harness.repo.root / "tests" / "leak.py").symlink_to("/etc/passwd")
    (harness.repo.root / "tests" / "up").symlink_to("../../../../../etc")
    harness.repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor/sub")
    head_text = model(threats=_MITIGATED, controls=_tls(json.dumps(evidence)))
    head = harness.repo.commit({"threatmodel.yaml": head_text}, "mitigate")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "mitigated only by controls that are planned or lack evidence" in comment.body
    unverified = comment.body.split("**Mitigated, not yet verified**", 1)[1]
    assert "`flow-dos@dose`" in unverified.split("\n\n", 2)[1]


def test_evidence_inside_the_repository_verifies_it(harness: Harness) -> None:
    base = harness.repo.commit(
        {".threatdelta.yml": UNVERIFIED, "tests/ok.py": "x = 1\n", "threatmodel.yaml": model()},
        "base",
    )
    head_text = model(threats=_MITIGATED, controls=_tls("tests/ok.py"))
    head = harness.repo.commit({"threatmodel.yaml": head_text}, "mitigate")
    harness.open_pull(base, head)

    assert harness.run(base, head).code == 0


_PLAINTEXT = """\
  - {id: telemetry, name: Telemetry, from: controller, to: nurse, protocol: tcp,
     properties: {authenticated: true, integrity_protected: true, encrypted: false}}
"""
_PLANNED_TLS = "  - {id: tls, name: TLS 1.3, status: planned}\n"


def test_a_property_made_true_by_a_planned_control_is_not_verified(harness: Harness) -> None:
    base = harness.repo.commit(
        {".threatdelta.yml": UNVERIFIED, "threatmodel.yaml": model(flows=_PLAINTEXT)}, "base"
    )
    encrypted = _PLAINTEXT.replace(
        "encrypted: false}}", "encrypted: true},\n     implemented_by: {encrypted: tls}}"
    )
    head_text = model(flows=encrypted, controls=_PLANNED_TLS)
    head = harness.repo.commit({"threatmodel.yaml": head_text}, "encrypt, some day")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "1 threat excluded by a property that rests on controls that are planned" in comment.body
    assert "flow.encrypted rests on 'tls' \\(planned, no evidence\\)" in comment.body
    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    (resolved,) = report["models"][0]["resolved"]
    assert resolved["unverified"] == "planned, no evidence"


def test_https_written_on_a_flow_that_says_it_is_not_encrypted_changes_nothing(
    harness: Harness,
) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model(flows=_PLAINTEXT)}, "base")
    head_text = model(flows=_PLAINTEXT.replace("protocol: tcp", "protocol: https"))
    head = harness.repo.commit({"threatmodel.yaml": head_text}, "call it https")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    needs = comment.body.split("**Needs a decision**", 1)[1]
    assert "`crossing-sniffing@controller>telemetry>nurse`" in needs
    assert (
        "crossing-sniffing@controller>telemetry>nurse"
        not in comment.body.split("**Needs a decision**", 1)[0]
    )


# --- 1. the gate's own settings ----------------------------------------------------------------

_PACK = (Path(__file__).parents[1] / "history" / "fixtures" / "pack.yaml").read_text(
    encoding="utf-8"
)
_EMPTY_PACK = "version: 1\nname: nothing to see\nrules: []\n"
_SETTINGS = "models: [threatmodel.yaml, models/other.yaml]\nrules: [security/pack.yaml]\n"
_NEW_FLOW = "  - {id: backdoor, name: Backdoor, from: nurse, to: controller, protocol: tcp}\n"


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        ({".threatdelta.yml": _SETTINGS + "policy: [none]\n"}, "'policy' removes unaddressed"),
        (
            {
                ".threatdelta.yml": _SETTINGS.replace("security/pack.yaml", "empty.yaml"),
                "empty.yaml": _EMPTY_PACK,
            },
            "'rules' adds empty.yaml and removes security/pack.yaml",
        ),
        ({"security/pack.yaml": _EMPTY_PACK}, "the rule pack security/pack.yaml is edited"),
        (
            {".threatdelta.yml": "models: [models/other.yaml]\nrules: [security/pack.yaml]\n"},
            "'models' removes threatmodel.yaml",
        ),
        ({".threatdelta.yml": None}, "the change deletes .threatdelta.yml"),
        (
            {".threatdelta.yml": _SETTINGS + "comment: {mode: 'off'}\n"},
            None,  # not a gate setting; the comment is still posted, by the base's settings
        ),
    ],
)
def test_a_change_cannot_loosen_the_gate_that_judges_it(
    harness: Harness, edit: dict[str, str | None], said: str | None
) -> None:
    base = harness.repo.commit(
        {
            ".threatdelta.yml": _SETTINGS,
            "security/pack.yaml": _PACK,
            "threatmodel.yaml": model(),
            "models/other.yaml": model(),
        },
        "base",
    )
    head = harness.repo.commit({"threatmodel.yaml": model(flows=_NEW_FLOW), **edit}, "loosen")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    (comment,) = harness.comments()
    body = comment.body
    assert "❌ threatdelta" in body
    assert "`sniff@backdoor`" in body.split("**Needs a decision**", 1)[1]
    assert "policy unaddressed,regressions,reconfirm (from the base)" in result.stdout
    if said is not None:
        changed = body.split("**Gate settings changed.**", 1)[1].split("\n\n", 2)[1]
        assert said in changed


def test_settings_added_by_the_change_do_not_judge_it(harness: Harness) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base, no settings")
    head = harness.repo.commit(
        {
            "threatmodel.yaml": model(flows=_NEW_FLOW),
            ".threatdelta.yml": "policy: [none]\nrules: [empty.yaml]\n",
            "empty.yaml": _EMPTY_PACK,
        },
        "add settings",
    )
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "the change adds .threatdelta.yml" in comment.body
    assert "`flow-dos@backdoor`" in comment.body.split("**Needs a decision**", 1)[1]


# --- 3. moving, deleting, adding models; renamed_from ---------------------------------------

_ALL_ACCEPTED = "".join(
    f"  {key}: {{status: accepted, justification: Reviewed on the ward in 2026.,"
    f" approved_by: security-lead}}\n"
    for key in (
        "entity-repudiation@nurse",
        "entity-spoofing@nurse",
        "flow-dos@dose",
        "process-disclosure@controller",
        "process-dos@controller",
        "process-elevation@controller",
        "process-repudiation@controller",
        "process-spoofing@controller",
        "process-tampering@controller",
        "therapy-interruption@controller",
        "tls-certificate-validation@nurse>dose>controller",
        "vulnerable-components@controller",
    )
)
GLOB = 'models: ["models/*.yaml"]\n'


def test_moving_the_model_out_of_the_reviewed_paths_is_a_regression(harness: Harness) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    harness.repo.git("mv", "threatmodel.yaml", "docs.yaml")
    head = harness.repo.commit({}, "move the model away")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "the model threatmodel.yaml was deleted in this change" in comment.body


def test_deleting_one_of_two_models_is_a_regression(harness: Harness) -> None:
    base = harness.repo.commit(
        {".threatdelta.yml": GLOB, "models/a.yaml": model(), "models/b.yaml": model()}, "base"
    )
    head = harness.repo.commit({"models/b.yaml": None}, "delete b")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "the model models/b.yaml was deleted in this change" in comment.body


def test_a_renamed_model_is_followed_and_keeps_its_decisions(harness: Harness) -> None:
    base = harness.repo.commit(
        {".threatdelta.yml": GLOB, "models/a.yaml": model(threats=_ALL_ACCEPTED)}, "base"
    )
    harness.repo.git("mv", "models/a.yaml", "models/pump.yaml")
    head = harness.repo.commit({}, "rename the file")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 0
    (comment,) = harness.comments()
    assert "**0** new · **0** resolved" in comment.body


def test_a_second_model_added_in_the_change_is_reviewed_in_full(harness: Harness) -> None:
    base = harness.repo.commit({".threatdelta.yml": GLOB, "models/a.yaml": model()}, "base")
    head = harness.repo.commit(
        {"models/b.yaml": model(threats="".join(_ALL_ACCEPTED.splitlines(True)[:3]))}, "add b"
    )
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "#### `models/b.yaml`" in comment.body
    needs = comment.body.split("#### `models/b.yaml`", 1)[1].split("**Needs a decision**", 1)[1]
    assert "`process-tampering@controller`" in needs


def test_renamed_from_cannot_carry_decisions_onto_a_different_flow(harness: Harness) -> None:
    logs = (
        "  - {id: logs, name: Logs, from: controller, to: nurse, protocol: https,\n"
        "     properties: {authenticated: true, encrypted: true, integrity_protected: true}}\n"
    )
    accepted = (
        "  flow-dos@logs: {status: accepted, justification: Logs can wait a day.,"
        " approved_by: security-lead}\n"
    )
    base = harness.repo.commit({"threatmodel.yaml": model(flows=logs, threats=accepted)}, "base")
    command = logs.replace("id: logs, name: Logs", "id: pump-cmd, renamed_from: logs, name: Cmd")
    command = command.replace("from: controller, to: nurse", "from: nurse, to: controller")
    head = harness.repo.commit(
        {"threatmodel.yaml": model(flows=command, threats=accepted)}, "logs become commands"
    )
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    assert "1 decision needs re-confirmation" in comment.body
    stale = comment.body.split("**Decisions to re-confirm**", 1)[1]
    assert "`flow-dos@pump-cmd`" in stale
    assert "**Decisions written under an old key**" in comment.body


@pytest.mark.parametrize(("who", "code_"), [("TBD", 1), (" who ", 1), ("Dr. Ana Ruiz", 0)])
def test_a_decisions_file_added_by_the_change_is_judged_like_the_model(
    harness: Harness, who: str, code_: int
) -> None:
    settings = f"models: [{TM7}]\n".encode()
    base = _commit_bytes(harness, {TM7: review_tm7(), ".threatdelta.yml": settings}, "base")
    telemetry = key("TV3", TELEMETRY)
    sidecar = (
        f"threats:\n  {telemetry}:\n    status: accepted\n"
        f"    justification: The cloud link is on the hospital VPN.\n"
        f"    approved_by: {json.dumps(who)}\n"
    )
    head = harness.repo.commit({f"{TM7}.threatdelta.yaml": sidecar}, "decisions file")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == code_
    (comment,) = harness.comments()
    decisions = comment.body.split("**Risk decisions in this change** (1)", 1)[1]
    assert code(telemetry) in decisions.split("\n\n", 2)[1]
    if code_:
        assert code(telemetry) in comment.body.split("**Needs a decision**", 1)[1]


def test_hostile_text_is_inert_in_sarif_code_quality_junit_and_the_html_report(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit({"threatmodel.yaml": _hostile_everywhere()}, "hostile")
    root = str(harness.repo.root)
    outputs = {}
    for fmt in ("sarif", "codequality", "junit"):
        target = harness.tmp / f"out.{fmt}"
        args = ["review", "-C", root, "--base", base, "--head", head, "--format", fmt]
        assert main([*args, "-o", str(target)]) == 1
        outputs[fmt] = target.read_text(encoding="utf-8")
    html_path = harness.tmp / "report.html"
    report_args = ["report", "-C", root, "--rev", head, "--format", "html"]
    assert main([*report_args, "-o", str(html_path)]) == 0
    outputs["html"] = html_path.read_text(encoding="utf-8")
    capsys.readouterr()

    for fmt, text in outputs.items():
        assert not any(ch in text for ch in "\u202e\u202c\u200b\u2066"), fmt
        assert "e.example" in text or "e\u2060.example" in text, fmt  # the text is there
    sarif = json.loads(outputs["sarif"])
    messages = [r["message"]["text"] for run in sarif["runs"] for r in run["results"]]
    assert messages and not any(re.search(r"(?<!\\)\]\(", m) for m in messages)
    quality = json.loads(outputs["codequality"])
    assert all("\n" not in issue["description"] for issue in quality)
    junit = ElementTree.fromstring(outputs["junit"])
    assert list(junit.iter("failure"))
    parser = _Tags()
    parser.feed(outputs["html"])
    assert parser.live == [] and "img" not in parser.tags and "script" not in parser.tags
    assert "<!--" not in outputs["html"]


class _Tags(HTMLParser):
    """Every tag of an HTML document, and every attribute that would fetch or run something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.live: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.live += [(k, v or "") for k, v in attrs if k in ("href", "src") or k.startswith("on")]
