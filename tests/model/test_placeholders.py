"""The placeholders threatdelta writes into skeletons are recognised wherever they are left."""

from __future__ import annotations

from threatdelta.model.placeholders import placeholder_in


def test_whole_word_placeholders_match_only_as_the_whole_value() -> None:
    assert placeholder_in(" WHO ") == "WHO"
    assert placeholder_in("CONTROL-ID") == "CONTROL-ID"
    assert placeholder_in("YYYY-MM-DD") == "YYYY-MM-DD"
    assert placeholder_in("WHOM") == "WHOM"
    assert placeholder_in("WHO approved it: the safety board") is None
    assert placeholder_in("security-lead") is None
    assert placeholder_in("") is None


def test_sentence_placeholders_match_anywhere_in_the_text() -> None:
    assert placeholder_in("Why the residual risk is acceptable.") is not None
    assert placeholder_in("Why the residual risk is acceptable. Because.") is not None
    assert placeholder_in("Why this threat does not apply.") is not None
    assert placeholder_in("The CAN bus is internal to the enclosure.") is None
