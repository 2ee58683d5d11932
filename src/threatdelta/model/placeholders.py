"""The placeholder texts threatdelta writes into the skeletons it suggests, and how to spot them.

The pull-request comment's "Record a decision" block and ``threatdelta dispositions`` print
disposition skeletons for the team to complete. Whatever is still a placeholder is not a person's
decision: the register flags it (problem ``placeholder``) and the threat stays unaddressed, so a
skeleton pasted as it stands can never pass the gate. Every placeholder lives here, so the writer
and the detector cannot drift apart.

Text is compared as a reader sees it (:func:`threatdelta.encoding.as_shown`) and without case:
``who``, `` WHO ``, ``ＷＨＯ`` and ``W\u200bHO`` are all still the placeholder, and the words people
write for "not decided yet" (``TBD``, ``TODO``, ``n/a``, ...) never name a person or a reason.
"""

from __future__ import annotations

from threatdelta.encoding import as_shown

CONTROL_ID = "CONTROL-ID"
"""Stands for a control id (older comments suggested ``controls: [CONTROL-ID]``)."""
JUSTIFICATION = "Why the residual risk is acceptable."
"""Stands for the justification of an acceptance."""
REASON = "Why this threat does not apply."
"""Stands for the reason a threat is not applicable."""
TRANSFER_JUSTIFICATION = "Why someone else carries this risk."
"""Stands for the justification of a transfer."""
APPROVER = "WHO"
"""Stands for the person who approved an acceptance or a transfer."""
RECIPIENT = "WHOM"
"""Stands for who carries a transferred risk."""
DATE = "YYYY-MM-DD"
"""Stands for a date; the model reader refuses it as a date, at its line and column."""

WORDS = frozenset({CONTROL_ID, APPROVER, RECIPIENT, DATE})
"""Placeholders that are a whole value (compared after trimming spaces)."""
SENTENCES = (JUSTIFICATION, REASON, TRANSFER_JUSTIFICATION)
"""Placeholders that are a sentence: any text still containing one is unwritten."""

UNDECIDED = frozenset(
    {"tbd", "tba", "tbc", "todo", "fixme", "xxx", "n/a", "na", "none", "nobody", "unknown", "?"}
)
"""Words that stand in for a value nobody has written yet (compared without case)."""


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing (empty, spaces, or only invisible characters)."""
    return not as_shown(text)


_LOOK_ALIKES = str.maketrans(
    "АВЕКМНОРСТХУаеорсхуіјѕԁԛԝΑΒΕΗΙΚΜΝΟΡΤΧΥΖοѡԜ",
    "ABEKMHOPCTXYaeopcxyijsdqwABEHIKMNOPTXYZowW",
)
"""Cyrillic and Greek letters drawn like Latin ones: ``WНО`` with Cyrillic letters reads ``WHO``."""


def placeholder_in(text: str) -> str | None:
    """The placeholder ``text`` still is or contains, or None when it is written by a person."""
    shown = as_shown(text)
    folded = shown.translate(_LOOK_ALIKES).casefold()
    for word in WORDS:
        if folded == word.casefold():
            return word
    if folded.strip(".-_ ") in UNDECIDED or (folded and not folded.strip("?.-_—– ")):
        return shown
    for sentence in SENTENCES:
        if sentence.casefold() in folded:
            return sentence
    return None
