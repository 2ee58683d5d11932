"""SARIF 2.1.0 for code scanning: unaddressed threats and regressions at the model file's lines."""

from __future__ import annotations

from typing import Any

from threatdelta import __version__
from threatdelta.errors import Location
from threatdelta.render.data import threat_location
from threatdelta.render.escape import sarif_text
from threatdelta.review.revisions import ReviewSet
from threatdelta.rules.pack import STRIDE_NAMES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _location(path: str, location: Location | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": path}}
    if location is not None and location.line is not None:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    return {"physicalLocation": physical}


def review_sarif(result: ReviewSet) -> dict[str, Any]:
    """A SARIF log with one run."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for review in result.reviews:
        for entry in review.unaddressed:
            threat = entry.threat
            located = (
                threat_location(threat, review.head.model)
                if review.head is not None
                else threat.location
            )
            rules.setdefault(
                threat.rule_id,
                {
                    "id": threat.rule_id,
                    "name": threat.rule_id,
                    "shortDescription": {"text": f"{STRIDE_NAMES[threat.stride]} threat"},
                    "properties": {
                        "tags": ["security", "threat-model", STRIDE_NAMES[threat.stride]],
                        **({"cwe": [f"CWE-{c}" for c in threat.cwe]} if threat.cwe else {}),
                    },
                },
            )
            results.append(
                {
                    "ruleId": threat.rule_id,
                    "level": _LEVEL[entry.severity],
                    "message": {
                        "text": sarif_text(
                            f"{threat.title}: no countermeasure and no justification ({threat.key})"
                        )
                    },
                    "locations": [_location(review.path, located)],
                    "partialFingerprints": {"threatKey": threat.key},
                }
            )
        for regression in review.regressions:
            rules.setdefault(
                "regression",
                {
                    "id": "regression",
                    "name": "regression",
                    "shortDescription": {
                        "text": "A countermeasure, its evidence or a justification was lost"
                    },
                },
            )
            results.append(
                {
                    "ruleId": "regression",
                    "level": "error",
                    "message": {"text": sarif_text(regression.message)},
                    "locations": [_location(review.path, regression.location)],
                    "partialFingerprints": {
                        "regression": f"{regression.code}:{regression.key}:{regression.message}"
                    },
                }
            )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "threatdelta",
                        "version": __version__,
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": results,
            }
        ],
    }
