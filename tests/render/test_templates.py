"""The markdown register (check.md.j2): rows as a reader sees them."""

from __future__ import annotations

from typing import Any

from threatdelta.render.templates import render


def _threat(problems: list[str]) -> dict[str, Any]:
    return {
        "id": "r@a",
        "reference": None,
        "stride": "S",
        "title": "Spoofing of A",
        "severity": "high",
        "subject": "A",
        "status": "accepted",
        "addressed": False,
        "problems": [{"code": "p", "message": m} for m in problems],
    }


def _cause(*controls: tuple[str, str | None, list[str], list[str]]) -> dict[str, Any]:
    return {
        "condition": "flow.encrypted",
        "item": "f",
        "property": "encrypted",
        "value": True,
        "implemented_by": [
            {
                "id": ident,
                "name": None,
                "status": status,
                "evidence": evidence,
                "problems": [{"code": "p", "message": m} for m in problems],
            }
            for ident, status, evidence, problems in controls
        ],
    }


def _excluded(ident: str, causes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": ident,
        "rule": "r",
        "stride": "I",
        "title": "Sniffing",
        "severity": "medium",
        "subject": "F",
        "excluded_by": "encrypted: true",
        "causes": causes,
    }


def _rows(document: dict[str, Any]) -> list[str]:
    text = render("check.md.j2", models=[{"data": document}])
    return [line for line in text.splitlines() if line.startswith("| ") and "<br>`" in line]


def test_problems_and_the_controls_behind_each_cause_are_joined_by_line_breaks() -> None:
    document = {
        "model": "m.yaml",
        "format": "native",
        "system": "S",
        "rules": "builtin",
        "summary": {
            "total": 2,
            "mitigated": 0,
            "accepted": 1,
            "transferred": 0,
            "not-applicable": 0,
            "open": 1,
            "unaddressed": 2,
        },
        "threats": [_threat([]), _threat(["expired"]), _threat(["expired", "no approver"])],
        "orphaned_dispositions": [],
        "excluded": [
            _excluded("r@none", [_cause(), _cause()]),
            _excluded(
                "r@some",
                [
                    _cause(),
                    _cause(("tls", "verified", ["e/tls.md", "e/2.md"], []), ("vpn", None, [], [])),
                    _cause(("hsm", "planned", [], ["planned", "no evidence"])),
                ],
            ),
        ],
    }
    assert _rows(document) == [
        "| Spoofing of A<br>`r@a` | S | A | high | accepted (not addressed) |  |",
        "| Spoofing of A<br>`r@a` | S | A | high | accepted (not addressed) | expired |",
        "| Spoofing of A<br>`r@a` | S | A | high | accepted (not addressed) "
        "| expired<br>no approver |",
        "| Sniffing<br>`r@none` | I | F | medium | encrypted: true | — |",
        "| Sniffing<br>`r@some` | I | F | medium | encrypted: true "
        "| `tls` (verified) `e/tls.md` `e/2.md`<br>`vpn` (not defined)"
        "`hsm` (planned)<br>⚠️ planned<br>⚠️ no evidence |",
    ]
