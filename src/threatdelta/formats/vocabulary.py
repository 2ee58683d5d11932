"""Reading other tools' labels: threat categories, severities and protocols.

Shared by the Threat Dragon and Open Threat Model readers.
"""

from __future__ import annotations

from threatdelta.model.types import PROTOCOLS
from threatdelta.rules.pack import Severity, Stride

_STRIDE_WORDS: tuple[tuple[str, Stride], ...] = (
    ("spoof", "S"),
    ("tamper", "T"),
    ("repudiat", "R"),
    ("disclos", "I"),
    ("denial", "D"),
    ("dos", "D"),
    ("elevation", "E"),
    ("privilege", "E"),
    # LINDDUN privacy threats are about information reaching where it should not.
    ("linkab", "I"),
    ("identifiab", "I"),
    ("detectab", "I"),
    ("unaware", "I"),
    ("non-compliance", "I"),
    ("noncompliance", "I"),
    # CIA and DIE.
    ("confidential", "I"),
    ("integrity", "T"),
    ("availab", "D"),
    ("distributed", "D"),
    ("immutable", "T"),
    ("ephemeral", "D"),
)
_STRIDE_LETTER = {"s": "S", "t": "T", "r": "R", "i": "I", "d": "D", "e": "E"}


def stride_for(label: str) -> Stride | None:
    """The STRIDE letter a threat category names (STRIDE, LINDDUN or CIA words), or None."""
    text = " ".join(label.lower().split())
    if not text:
        return None
    if text in _STRIDE_LETTER:
        return _STRIDE_LETTER[text]  # type: ignore[return-value]
    for word, letter in _STRIDE_WORDS:
        if word in text:
            return letter
    return None


_SEVERITIES: dict[str, Severity] = {
    "low": "low",
    "info": "low",
    "informational": "low",
    "medium": "medium",
    "moderate": "medium",
    "high": "high",
    "critical": "critical",
    "very high": "critical",
}


def severity_for(label: object) -> Severity | None:
    """``High`` / ``Medium`` / ``Low`` / ``Critical`` (any case) as a severity, or None."""
    if not isinstance(label, str):
        return None
    return _SEVERITIES.get(" ".join(label.lower().split()))


_PROTOCOL_ALIASES: dict[str, str] = {
    "http/s": "https",
    "http(s)": "https",
    "canbus": "can",
    "can bus": "can",
    "can-bus": "can",
    "canfd": "can",
    "can-fd": "can",
    "can fd": "can",
    "tcp/ip": "tcp",
    "bluetooth": "ble",
    "bluetooth le": "ble",
    "bluetooth low energy": "ble",
    "uart": "serial",
    "rs232": "serial",
    "rs-232": "serial",
    "rs485": "serial",
    "rs-485": "serial",
    "mqtts": "mqtt",
    "wi-fi": "wifi",
    "wlan": "wifi",
    "802.11": "wifi",
    "filesystem": "file",
    "file system": "file",
}


def protocol_for(label: str) -> str | None:
    """The native protocol name a tool's protocol label stands for, or None."""
    text = " ".join(label.lower().split())
    if text in PROTOCOLS and text != "generic":
        return text
    return _PROTOCOL_ALIASES.get(text)
