"""CVSS vectors: v3.1 scored by the specification's formulas, v4.0 validated and scored."""

from __future__ import annotations

import random

import pytest

from threatdelta.risk.cvss import CvssError, parse, rating, roundup

KNOWN_V31 = {
    # vectors with their published base scores
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H": 10.0,
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H": 7.8,
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
    "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N": 6.5,
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N": 0.0,
    "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 6.8,
}


@pytest.mark.parametrize(("vector", "score"), sorted(KNOWN_V31.items()))
def test_v31_base_scores_match_published_examples(vector: str, score: float) -> None:
    assert parse(vector).base_score == score


def test_roundup_is_the_specification_round_up() -> None:
    assert roundup(4.02) == 4.1
    assert roundup(4.0) == 4.0
    assert roundup(4.000001) == 4.0  # within the specification's floating-point tolerance
    assert roundup(0.0) == 0.0


def test_temporal_and_environmental_scores() -> None:
    cvss = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C")
    assert (cvss.base_score, cvss.temporal_score) == (9.8, 8.8)
    assert cvss.score == 8.8 and cvss.rating == "high"
    env = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:P")
    assert env.score == env.environmental_score == 6.8


def _random_v31(rng: random.Random) -> str:
    base = {
        "AV": "NALP",
        "AC": "LH",
        "PR": "NLH",
        "UI": "NR",
        "S": "UC",
        "C": "HLN",
        "I": "HLN",
        "A": "HLN",
    }
    extra = {
        "E": "XHFPU",
        "RL": "XUWTO",
        "RC": "XCRU",
        "CR": "XHML",
        "IR": "XHML",
        "AR": "XHML",
        "MAV": "XNALP",
        "MAC": "XLH",
        "MPR": "XNLH",
        "MUI": "XNR",
        "MS": "XUC",
        "MC": "XHLN",
        "MI": "XHLN",
        "MA": "XHLN",
    }
    parts = [f"{k}:{rng.choice(v)}" for k, v in base.items()]
    parts += [f"{k}:{rng.choice(v)}" for k, v in extra.items() if rng.random() < 0.5]
    return "CVSS:3.1/" + "/".join(parts)


def test_v31_scores_agree_with_an_independent_implementation() -> None:
    reference = pytest.importorskip("cvss")
    rng = random.Random(31)
    for _ in range(3000):
        vector = _random_v31(rng)
        ours = parse(vector)
        theirs = reference.CVSS3(vector).scores()
        assert (ours.base_score, ours.temporal_score, ours.environmental_score) == theirs, vector


def test_v40_vectors_are_validated_and_scored() -> None:
    cvss = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert cvss.version == "4.0"
    # The specification's example of a network-reachable, unauthenticated full compromise.
    assert cvss.score == 9.3 and cvss.rating == "critical"
    assert cvss.exploitability == "high"
    # Threat and environmental metrics change the one v4.0 score.
    unreported = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
    assert unreported.score is not None and unreported.score < 9.3
    local = parse("CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N")
    assert local.score is not None and 0.0 < local.score < 4.0 and local.rating == "low"
    physical = parse("CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A")
    assert physical.exploitability == "low"


@pytest.mark.parametrize(
    ("vector", "words"),
    [
        ("AV:N/AC:L", "starts with CVSS:3.1/ or CVSS:4.0/"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "v3.0 is not supported"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "base metrics A are missing"),
        ("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "'Q' is not a value of AV"),
        ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "given twice"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/VC:H", "'VC' is not a CVSS v3.1 metric"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", "base metrics SA"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "'R' is not a value"),
        ("CVSS:3.1/AV:N/AC", "not a METRIC:VALUE pair"),
    ],
)
def test_bad_vectors_say_what_is_wrong(vector: str, words: str) -> None:
    with pytest.raises(CvssError, match=words):
        parse(vector)


def test_ratings() -> None:
    assert [rating(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        "none",
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "critical",
        "critical",
    ]
