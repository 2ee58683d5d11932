"""Text as a reader sees it."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from threatdelta.encoding import as_shown, hidden


def folded_and_trimmed(text: str) -> str:
    """What :func:`as_shown` does, character by character for every text."""
    folded = unicodedata.normalize("NFKC", text)
    return " ".join("".join(ch for ch in folded if not hidden(ch)).split())


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_text_is_shown_as_folded_and_trimmed_whatever_its_characters(text: str) -> None:
    assert as_shown(text) == folded_and_trimmed(text)


def test_plain_text_keeps_its_words_and_hidden_characters_go() -> None:
    assert as_shown("  Reviewed   by the lead. ") == "Reviewed by the lead."
    assert as_shown("W\tHO") == "WHO"
    assert as_shown("\uff37\u200bHO") == "WHO"
