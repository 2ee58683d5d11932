"""Threat Modeling Tool templates (.tb7, or the KnowledgeBase inside a .tm7) as rule packs.

Every threat type becomes one interaction rule: its GenerationFilters Include and Exclude are
compiled with the rule language unchanged, so the engine enumerates exactly the interactions the
tool would. Keys follow the tool (``key_style='tmt'``: TypeId + SourceGuid + FlowGuid +
TargetGuid), so threats stored in a .tm7 match the regenerated ones.

Category -> STRIDE letter: the six STRIDE categories by name (any capitalisation, "Privilege"
or "Privileges"); a template's own categories by what they are about (Privacy -> I; Abuse, a
legitimate user exceeding their intended use -> E; Patient Safety, harm through altered device
behaviour or data -> T); anything else by keywords, else T. The original name is kept in
``Rule.category``.

One point of the tool's semantics differs from the rule language's: in the tool, ``ROOT`` is
the parent of the generic types but not a type itself, so ``X is 'ROOT'`` never holds (the SDL
templates' six "migrated from v3" threat types, whose Include is ``source is 'ROOT'``, are never
generated). Compiled filters therefore read such a test as ``false`` (``is not 'ROOT'`` as
``true``); the written text is kept unchanged in ``include_text`` / ``exclude_text``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re

from threatdelta.errors import InputError, Location
from threatdelta.formats.mitigations import whole_sentences
from threatdelta.formats.tm7_kb import (
    KbCategory,
    KbThreatType,
    KnowledgeBase,
    find_knowledge_base,
    read_knowledge_base,
    readable_names,
)
from threatdelta.formats.tm7_xml import local_name, parse_xml, xml_positions
from threatdelta.model.types import ROOT
from threatdelta.positions import Positions, WholeFile
from threatdelta.rules.lang.ast import And, Const, Expr, Not, Or, TypeTest
from threatdelta.rules.lang.parser import compile_rule
from threatdelta.rules.pack import Countermeasure, Rule, RulePack, Severity, Stride

TMT_SUBJECTS = frozenset({"source", "flow", "target"})
"""What a GenerationFilters expression may name."""

NEVER = "false"
"""The expression used for an empty Include: the threat is never generated."""

_STRIDE_BY_NAME: dict[str, Stride] = {
    "spoofing": "S",
    "tampering": "T",
    "repudiation": "R",
    "information disclosure": "I",
    "denial of service": "D",
    "elevation of privilege": "E",
    "elevation of privileges": "E",
    "privacy": "I",
    "abuse": "E",
    "patient safety": "T",
    "safety": "T",
}
_STRIDE_KEYWORDS: tuple[tuple[str, Stride], ...] = (
    ("spoof", "S"),
    ("impersonat", "S"),
    ("authenticat", "S"),
    ("tamper", "T"),
    ("integrity", "T"),
    ("safety", "T"),
    ("repudiat", "R"),
    ("audit", "R"),
    ("disclos", "I"),
    ("privacy", "I"),
    ("confidential", "I"),
    ("leak", "I"),
    ("denial", "D"),
    ("availability", "D"),
    ("elevat", "E"),
    ("privilege", "E"),
    ("authoriz", "E"),
    ("authoris", "E"),
    ("abuse", "E"),
)

_SEVERITY_BY_PRIORITY: dict[str, Severity] = {
    "highest": "critical",
    "critical": "critical",
    "very high": "critical",
    "high": "high",
    "medium-high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low-medium": "low",
    "low": "low",
    "lowest": "low",
    "none": "low",
}
DEFAULT_SEVERITY: Severity = "high"
"""Severity of a threat type whose Priority is unset: the tool shows such threats as High."""

_CWE = re.compile(r"cwe\.mitre\.org/data/definitions/(\d{1,6})|\bCWE-(\d{1,6})\b", re.I)
_CAPEC = re.compile(r"capec\.mitre\.org/data/definitions/(\d{1,6})|\bCAPEC-(\d{1,6})\b", re.I)
_LINK = re.compile(r"<a\b[^>]*?href\s*=\s*\"([^\"]*)\"[^>]*>(.*?)</a\s*>", re.I | re.S)
_TAG = re.compile(r"<[^<>]{0,2000}>")
_SPACE = re.compile(r"[ \t]+")

MITIGATION_NAMES = ("PossibleMitigations", "Mitigation", "Mitigations")

COUNTERMEASURE_NAME_LIMIT = 160
"""Characters of a template's suggested mitigation shown as its name (whole sentences)."""
"""Threat metadata that carries the template's suggested mitigation text."""


def stride_for(category: KbCategory | None, category_id: str) -> Stride:
    """The STRIDE letter of a category (see the module documentation for the mapping)."""
    name = (category.name if category is not None else category_id).strip().casefold()
    name = _SPACE.sub(" ", name)
    if name in _STRIDE_BY_NAME:
        return _STRIDE_BY_NAME[name]
    if category_id in ("S", "T", "R", "I", "D", "E"):
        return category_id  # type: ignore[return-value]
    for keyword, letter in _STRIDE_KEYWORDS:
        if keyword in name:
            return letter
    return "T"


def severity_for(priority: str) -> Severity:
    """The severity of a Priority value (High -> high, ...; unset -> high, as the tool shows)."""
    key = _SPACE.sub(" ", priority.strip().casefold())
    return _SEVERITY_BY_PRIORITY.get(key, DEFAULT_SEVERITY)


def plain_text(value: str) -> str:
    """Template text without HTML markup: links become ``text (url)``, entities are decoded."""

    def link(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1)).strip()
        label = html.unescape(_TAG.sub("", match.group(2))).strip()
        if not label or label == url:
            return url
        return f"{label} ({url})"

    decoded = html.unescape(html.unescape(value)) if "&amp;" in value else html.unescape(value)
    result = _TAG.sub("", _LINK.sub(link, decoded))
    return _SPACE.sub(" ", result).strip()


def _ids(pattern: re.Pattern[str], texts: list[str]) -> tuple[int, ...]:
    found: set[int] = set()
    for value in texts:
        for match in pattern.finditer(html.unescape(html.unescape(value))):
            found.add(int(match.group(1) or match.group(2)))
    return tuple(sorted(found))


def tmt_semantics(expr: Expr) -> Expr:
    """``expr`` with the tool's reading of ``ROOT`` type tests (never a type; see above)."""
    if isinstance(expr, TypeTest) and expr.type_id == ROOT:
        return Const(expr.negated, expr.offset)
    if isinstance(expr, Not):
        return Not(tmt_semantics(expr.operand), expr.offset)
    if isinstance(expr, And):
        return And(tuple(tmt_semantics(o) for o in expr.operands), expr.offset)
    if isinstance(expr, Or):
        return Or(tuple(tmt_semantics(o) for o in expr.operands), expr.offset)
    return expr


def _compile(text: str, which: str, threat: KbThreatType, pack_name: str, where: Location) -> Expr:
    try:
        return tmt_semantics(compile_rule(text, TMT_SUBJECTS))
    except InputError as error:
        raise InputError(
            f"threat type {threat.id!r} ({threat.title!r}) of template {pack_name!r} has "
            f"a GenerationFilters {which} that cannot be read: {error.message}; correct it in "
            "the Template Editor",
            where,
        ) from None


def rule_for(
    threat: KbThreatType, kb: KnowledgeBase, path: str, positions: Positions | None = None
) -> tuple[Rule, Countermeasure | None]:
    """One threat type as a rule, plus its suggested mitigation as a catalogue entry (if any);
    ``positions`` locate the threat type by its id (the whole file when not given)."""
    pack_name = kb.name or path
    where = (positions or WholeFile(path)).location((threat.id,))
    include_text = threat.include
    include = _compile(include_text or NEVER, "Include", threat, pack_name, where)
    exclude = (
        _compile(threat.exclude, "Exclude", threat, pack_name, where) if threat.exclude else None
    )
    category = kb.categories.get(threat.category)
    mitigation_text = ""
    for name in MITIGATION_NAMES:
        mitigation_text = threat.first(name)
        if mitigation_text:
            break
    if not mitigation_text:
        for name, label in threat.labels.items():
            if "mitigation" in label.casefold():
                mitigation_text = threat.first(name)
                if mitigation_text:
                    break
    countermeasure = None
    countermeasure_ids: tuple[str, ...] = ()
    if mitigation_text:
        description = plain_text(mitigation_text)
        countermeasure = Countermeasure(
            id=f"tmt-{threat.id}",
            # Its first sentences, never cut mid-sentence; the whole text is the description.
            name=whole_sentences(description, COUNTERMEASURE_NAME_LIMIT)
            or f"Possible mitigations for {threat.title or threat.id}",
            description=description,
        )
        countermeasure_ids = (countermeasure.id,)
    all_texts = [value for values in threat.properties.values() for value in values]
    all_texts.append(threat.description)
    rule = Rule(
        id=threat.id,
        stride=stride_for(category, threat.category),
        scope="interaction",
        title=threat.title or threat.id,
        include=include,
        include_text=include_text,
        exclude=exclude,
        exclude_text=threat.exclude,
        description=plain_text(threat.description or threat.first("UserThreatDescription")),
        severity=severity_for(threat.first("Priority")),
        cwe=_ids(_CWE, all_texts),
        capec=_ids(_CAPEC, all_texts),
        countermeasures=countermeasure_ids,
        category=category.name if category is not None else threat.category,
        location=where,
    )
    return rule, countermeasure


def pack_from_kb(kb: KnowledgeBase, path: str, positions: Positions | None = None) -> RulePack:
    """The rule pack of a KnowledgeBase (threat types -> interaction rules, ``key_style='tmt'``);
    ``positions`` locate each threat type by its ``<Id>``."""
    rules: list[Rule] = []
    countermeasures: dict[str, Countermeasure] = {}
    for threat in kb.threat_types:
        rule, countermeasure = rule_for(threat, kb, path, positions)
        rules.append(rule)
        if countermeasure is not None:
            countermeasures[countermeasure.id] = countermeasure
    rules.sort(key=lambda r: r.id)
    parents = kb.parents
    name = kb.name or "Threat Modeling Tool template"
    if kb.version:
        name = f"{name} {kb.version}"
    return RulePack(
        name=name,
        rules=tuple(rules),
        countermeasures=countermeasures,
        key_style="tmt",
        type_parents=parents,
        property_names=readable_names(kb),
        digest=_digest(rules, parents),
    )


def _digest(rules: list[Rule], parents: dict[str, str]) -> str:
    """A content hash of what decides threats: rules (filters, titles, severities) and types."""
    content = {
        "rules": [
            [r.id, r.stride, r.title, r.include_text, r.exclude_text, r.severity, r.category]
            for r in rules
        ],
        "types": sorted(parents.items()),
    }
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def sniff(path: str, data: bytes) -> bool:
    """True when ``data`` looks like a .tb7 template."""
    if path.lower().endswith(".tb7"):
        return True
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<?xml"):
        end = head.find(b"?>")
        head = head[end + 2 :].lstrip() if end >= 0 else head
    return head.startswith(b"<KnowledgeBase")


def read_tb7(data: bytes, path: str) -> RulePack:
    """Read a .tb7 template (or any file whose root is a KnowledgeBase) as a rule pack."""
    root = parse_xml(data, path, ".tb7")
    node = find_knowledge_base(root)
    if node is None:
        raise InputError(
            f"the file is XML but not a Threat Modeling Tool template: its root element is "
            f"<{local_name(root.tag)}>, not <KnowledgeBase>",
            Location(path),
        )
    return pack_from_kb(read_knowledge_base(node, path), path, xml_positions(data, path))
