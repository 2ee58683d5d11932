"""OTM's free-text component, zone and risk values mapped to threatdelta's vocabulary."""

from __future__ import annotations

from typing import Any

import pytest

from threatdelta.formats import otm_types


@pytest.mark.parametrize(
    ("otm_type", "tags", "expected"),
    [
        ("CD-MICROSOFT-AZURE-DB-POSTGRESQL", [], ("data-store", "database")),
        ("azure-storage", [], ("data-store", "cloud-storage")),
        ("android-device-client", [], ("external-entity", "device")),
        ("web-service", [], ("process", "web-service")),
        ("something", ["external"], ("external-entity", "generic")),
        ("process/control-unit", [], ("process", "control-unit")),
        ("data-store", [], ("data-store", "generic")),
        ("process/SE.P.TMCore.WebApp", [], ("process", "SE.P.TMCore.WebApp")),
    ],
)
def test_type_words(otm_type: str, tags: list[str], expected: tuple[str, str]) -> None:
    element_type = otm_types.element_type_for(otm_type, tags)
    assert (element_type, otm_types.kind_for(element_type, otm_type)) == expected


@pytest.mark.parametrize(
    ("likelihood", "impact", "severity"),
    [(None, 20, "low"), (None, 50, "medium"), (None, 75, "high"), (None, 100, "critical"),
     (100, 100, "critical"), (50, 100, "medium"), (10, 10, "low"), (None, None, "medium")],
)  # fmt: skip
def test_severity_from_risk(likelihood: Any, impact: Any, severity: str) -> None:
    assert otm_types.severity_from_risk(likelihood, impact) == severity
