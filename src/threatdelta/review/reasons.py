"""Why a threat went away: the subject was removed, its flow was marked out of scope, a property
now excludes it, a boundary is no longer crossed, or the rule itself is gone."""

from __future__ import annotations

from dataclasses import replace

from threatdelta.engine import EnumerationScope, enumerate_threats
from threatdelta.exclusions import backing
from threatdelta.model.graph import ModelFacts
from threatdelta.model.model import Model
from threatdelta.register import EvidenceCheck
from threatdelta.rules.lang.ast import referenced_attributes
from threatdelta.rules.lang.evaluator import evaluate, explain
from threatdelta.rules.lang.interface import Subject
from threatdelta.rules.pack import Rule, RulePack
from threatdelta.subjects import SubjectFactory
from threatdelta.threat import Threat

OUT_OF_SCOPE = "out-of-scope"
"""Resolution code of a threat whose flow was marked out of scope: a decision, like an
acceptance, whose justification is the reason the author gave."""

DECISION_CODES = frozenset({OUT_OF_SCOPE})
"""Resolution codes that record a person's decision rather than a change of the design."""


def scope_decision(flow_label: str, reason: str) -> str:
    """The sentence for a flow marked out of scope, with its reason (model text, kept whole)."""
    reason = " ".join(reason.split())
    if not reason:
        return f"flow {flow_label} was marked out of scope, without a reason"
    return f"flow {flow_label} was marked out of scope: {reason}"


NO_REASON = "no reason given"
"""What :func:`decision_text` says when the author wrote no reason."""


def decision_text(threat: Threat, head: Model) -> str:
    """The author's reason for the decision that took ``threat`` away (its flow's reason for
    being out of scope), or :data:`NO_REASON`."""
    flow = head.flow(threat.flow) if threat.flow is not None else None
    reason = " ".join(flow.out_of_scope_reason.split()) if flow is not None else ""
    return reason or NO_REASON


def scoped_out_flows(base: Model | None, head: Model) -> frozenset[str]:
    """Ids of the head's flows that the change marked out of scope: flows new in it (also under a
    new id, ``renamed_from``) or in scope at the base."""
    ids = set()
    for flow in head.flows:
        if not flow.out_of_scope:
            continue
        old = None
        if base is not None:
            old = base.flow(flow.id) or base.flow(flow.renamed_from or "")
        if old is None or not old.out_of_scope:
            ids.add(flow.id)
    return frozenset(ids)


def scoped_out_threats(base: Model | None, head: Model, pack: RulePack) -> tuple[Threat, ...]:
    """The threats ``pack`` finds on the flows the change marked out of scope, as if they were in
    scope: what the decision takes away, so that it is shown and judged, never silent."""
    ids = scoped_out_flows(base, head)
    if not ids:
        return ()
    flows = tuple(replace(f, out_of_scope=False) if f.id in ids else f for f in head.flows)
    return enumerate_threats(replace(head, flows=flows), pack, EnumerationScope(flows=ids))


def _show(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _label(item_id: str, name: str | None) -> str:
    """``'Name' (id)`` when the display name says more than the id, else ``'id'``.

    Tool ids are GUIDs, so the name is what a reader recognises; the id keeps it unambiguous
    (tools name every new boundary after its type)."""
    if not name or name.casefold() == item_id.casefold():
        return f"'{item_id}'"
    return f"'{name}' ({item_id})"


def _boundary_label(boundary_id: str, *models: Model) -> str:
    for model in models:
        boundary = model.boundary(boundary_id)
        if boundary is not None:
            return _label(boundary_id, boundary.name)
    return _label(boundary_id, None)


def _subjects(threat: Threat, model: Model, factory: SubjectFactory) -> dict[str, Subject] | None:
    if threat.element is not None:
        element = model.element(threat.element)
        return None if element is None else {"element": factory.element(element)}
    flow = model.flow(threat.flow or "")
    source = model.element(threat.source or "")
    target = model.element(threat.target or "")
    if flow is None or source is None or target is None:
        return None
    return {
        "source": factory.element(source),
        "flow": factory.flow(flow),
        "target": factory.element(target),
    }


def _changed_attributes(
    expr: object, base_subjects: dict[str, Subject], head_subjects: dict[str, Subject]
) -> list[str]:
    changed = []
    for subject, attribute in sorted(referenced_attributes(expr)):  # type: ignore[arg-type]
        if subject not in head_subjects or subject not in base_subjects:
            continue
        old = base_subjects[subject].attribute(attribute)
        new = head_subjects[subject].attribute(attribute)
        if old != new:
            changed.append(f"{subject}.{attribute} changed from {_show(old)} to {_show(new)}")
    return changed


def _removed_subject(threat: Threat, model: Model) -> str | None:
    if threat.element is not None and model.element(threat.element) is None:
        return f"element '{threat.element}' was removed"
    if threat.flow is not None and model.flow(threat.flow) is None:
        return f"flow '{threat.flow}' was removed"
    for role, element_id in (("source", threat.source), ("target", threat.target)):
        if element_id is not None and model.element(element_id) is None:
            return f"{role} element '{element_id}' was removed"
    if threat.flow is not None:
        flow = model.flow(threat.flow)
        if flow is not None and {flow.source, flow.target} != {threat.source, threat.target}:
            return f"flow '{threat.flow}' now connects other elements"
    return None


def resolution_reason(
    threat: Threat,
    base: Model,
    head: Model,
    base_pack: RulePack,
    head_pack: RulePack,
    base_facts: ModelFacts,
    head_facts: ModelFacts,
    evidence_exists: EvidenceCheck | None = None,
) -> tuple[str, str, str]:
    """``(code, sentence, lacking)`` saying why ``threat`` (present at base) is absent at head.
    ``lacking`` is set when a property that now excludes it is, by the model's own word
    (``implemented_by``), made true only by controls that are planned or lack evidence at head
    (``evidence_exists``): what they lack, e.g. ``planned, no evidence``.

    Codes: ``removed`` (its element or flow is gone), ``out-of-scope`` (its flow was marked out
    of scope; a decision), ``rule-removed``, ``excluded`` (the exclude expression now holds),
    ``property`` (an attribute the include reads changed), ``boundary`` (crossings changed),
    ``other``.
    """
    removed = _removed_subject(threat, head)
    if removed is not None:
        return "removed", removed, ""
    scoped = head.flow(threat.flow) if threat.flow is not None else None
    if scoped is not None and scoped.out_of_scope:
        reason = scope_decision(_label(scoped.id, scoped.name), scoped.out_of_scope_reason)
        return OUT_OF_SCOPE, reason, ""
    rules = {r.id: r for r in head_pack.rules}
    rule: Rule | None = rules.get(threat.rule_id)
    if rule is None:
        return "rule-removed", f"rule '{threat.rule_id}' is no longer in the rule pack", ""
    head_subjects = _subjects(threat, head, SubjectFactory.for_pack(head_facts, head_pack))
    base_subjects = _subjects(threat, base, SubjectFactory.for_pack(base_facts, base_pack))
    if head_subjects is None or base_subjects is None:
        return "removed", "what it was about is no longer in the model", ""
    if rule.exclude is not None and evaluate(rule.exclude, head_subjects):  # type: ignore[arg-type]
        changed = _changed_attributes(rule.exclude, base_subjects, head_subjects)
        if changed:
            sentence = "excluded now that " + "; ".join(changed)
        else:
            because = explain(rule.exclude, head_subjects)  # type: ignore[arg-type]
            sentence = "now excluded because " + " and ".join(because)
        lacking = []
        for subject, attribute in sorted(referenced_attributes(rule.exclude)):  # type: ignore[arg-type]
            if subject not in head_subjects:
                continue
            named, gaps = backing(head_subjects[subject], attribute, head, evidence_exists)
            if gaps:
                controls = ", ".join(f"'{c}'" for c in named)
                sentence += f"; {subject}.{attribute} rests on {controls} ({gaps})"
                lacking.append(gaps)
        return "excluded", sentence, ", ".join(dict.fromkeys(lacking))
    if threat.flow is not None:
        flow_base = base.flow(threat.flow)
        flow_head = head.flow(threat.flow)
        if flow_base is not None and flow_head is not None:
            before = set(base_facts.crossings(flow_base))
            after = set(head_facts.crossings(flow_head))
            gone = sorted(before - after)
            if gone:
                names = ", ".join(_boundary_label(b, head, base) for b in gone)
                flow = _label(threat.flow, flow_head.name)
                return "boundary", f"flow {flow} no longer crosses boundary {names}", ""
    changed = _changed_attributes(rule.include, base_subjects, head_subjects)
    if changed:
        return "property", "no longer applies: " + "; ".join(changed), ""
    return "other", "the rule no longer matches", ""
