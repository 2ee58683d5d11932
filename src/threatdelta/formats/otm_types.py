"""What OTM's free-text types stand for in threatdelta's vocabulary.

OTM component and trust zone types are free text (``web-service``,
``CD-MICROSOFT-AZURE-DB-POSTGRESQL``), so the element type, the native kind and the boundary kind
are read from the words in them; threat severities come from OTM's 0-100 likelihood and impact.
Used by the OTM reader (:mod:`threatdelta.formats.otm`) and writer
(:mod:`threatdelta.formats.otm_writer`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from threatdelta.model.model import ElementType
from threatdelta.rules.pack import Severity

_STORE_WORDS = (
    "database", "db", "sql", "mysql", "postgres", "postgresql", "mongo", "mongodb", "redis",
    "cache", "store", "datastore", "storage", "bucket", "s3", "blob", "file", "filesystem",
    "log", "logs", "vault", "keystore", "keyvault", "table", "cosmos", "dynamodb",
)  # fmt: skip
_EXTERNAL_WORDS = ("client", "user", "browser", "actor", "external", "human", "person", "customer")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def element_type_for(otm_type: str, tags: Sequence[str] = ()) -> ElementType:
    """The element type an OTM component type (and its tags) stands for."""
    text = otm_type.strip().lower()
    for native in ("external-entity", "process", "data-store"):
        if text == native or text.startswith(f"{native}/"):
            return native
    if text in ("ge.ei",):
        return "external-entity"
    if text in ("ge.ds",):
        return "data-store"
    words = _words(otm_type)
    if any(w in _STORE_WORDS for w in words):
        return "data-store"
    if any(w in _EXTERNAL_WORDS for w in words) or "external" in (t.lower() for t in tags):
        return "external-entity"
    return "process"


def kind_for(element_type: ElementType, otm_type: str) -> str:
    """The native kind closest to an OTM component type (``generic`` when none fits)."""
    text = otm_type.strip()
    if text.lower().startswith(f"{element_type}/"):
        return text.split("/", 1)[1] or "generic"
    words = set(_words(otm_type))
    table: tuple[tuple[set[str], str], ...]
    if element_type == "data-store":
        table = (
            ({"log", "logs"}, "log"),
            ({"vault", "keystore", "keyvault", "key", "secret", "secrets"}, "key-store"),
            ({"config", "configuration", "settings"}, "configuration"),
            ({"bucket", "s3", "blob", "storage"}, "cloud-storage"),
            ({"file", "filesystem"}, "file"),
            ({"database", "db", "sql", "mysql", "postgres", "postgresql", "mongo", "redis"},
             "database"),
        )  # fmt: skip
    elif element_type == "external-entity":
        table = (
            ({"user", "human", "person", "customer", "actor"}, "person"),
            ({"device", "mobile", "android", "ios", "iot"}, "device"),
            ({"cloud", "saas"}, "cloud-service"),
            ({"system"}, "system"),
        )
    else:
        table = (
            ({"firmware"}, "firmware"),
            ({"vm", "virtual"}, "virtual-machine"),
            ({"mobile", "android", "ios", "app"}, "mobile-app"),
            ({"ecu", "controller", "control"}, "control-unit"),
            ({"web", "api", "service", "server", "microservice"}, "web-service"),
        )
    for keys, kind in table:
        if words & keys:
            return kind
    return "generic"


def boundary_kind_for(otm_type: str) -> str:
    """The native boundary kind closest to an OTM trust zone type."""
    words = set(_words(otm_type))
    if words & {"cloud", "aws", "azure", "gcp"}:
        return "cloud"
    if words & {"internet", "network", "dmz", "private", "public", "intranet", "lan", "wan"}:
        return "network"
    if words & {"device", "hardware"}:
        return "device"
    if words & {"physical", "premises", "site"}:
        return "physical"
    if words & {"organisation", "organization", "company", "corporate"}:
        return "organisation"
    if words & {"process", "runtime", "container"}:
        return "process"
    return "generic"


def severity_from_risk(likelihood: object, impact: object) -> Severity:
    """Severity from OTM's 0-100 likelihood and impact (impact alone when likelihood is null)."""
    if not is_number(impact):
        return "medium"
    score = float(impact)  # type: ignore[arg-type]
    if is_number(likelihood):
        score = score * float(likelihood) / 100  # type: ignore[arg-type]
    if score < 30:
        return "low"
    if score < 60:
        return "medium"
    if score < 85:
        return "high"
    return "critical"


def is_number(value: object) -> bool:
    """True for an int or float (never a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
