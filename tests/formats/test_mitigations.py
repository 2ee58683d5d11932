"""Names for countermeasures that other tools record only as text."""

from __future__ import annotations

from threatdelta.formats.mitigations import described_control, short_name, whole_sentences


def test_whole_sentences_never_cut_a_sentence() -> None:
    text = "Use TLS 1.2 or later on every link. Pin the server certificate. Rotate keys yearly."
    assert whole_sentences(text, 200) == text
    assert (
        whole_sentences(text, 70)
        == "Use TLS 1.2 or later on every link. Pin the server certificate."
    )
    assert whole_sentences(text, 10) == "Use TLS 1.2 or later on every link."
    # A dot inside a version number or an address does not end a sentence.
    assert whole_sentences("Refer to https://example.org/a.b for TLS 1.2. Done.", 20) == (
        "Refer to https://example.org/a.b for TLS 1.2."
    )


def test_a_short_name_fits_its_limit_and_cuts_only_between_words() -> None:
    assert short_name("Badge login.\nSecond line.") == "Badge login."
    long = "Mutual TLS " + "with pinned certificates " * 10
    name = short_name(long)
    assert len(name) <= 120 and name.endswith("…") and long.startswith(name[:-1])


def test_no_text_no_control() -> None:
    assert described_control("x", "  ", None) is None
    control = described_control("mitigation:td:1", "Signed frames. Tested in T-3.", None)
    assert control is not None
    assert (control.name, control.status) == ("Signed frames. Tested in T-3.", "implemented")
