"""Property: whatever text a model holds (in ids, names, descriptions), the posted comment has
the same structure as for a harmless model of the same shape (sections, tables, rows, cells, the
hidden markers), and GitHub's parser finds no link, image, mention or reference in it.

The models are Open Threat Model files, whose ids are free text: ids appear in threat keys, which
the comment shows as copyable code."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.render.gfm import render
from tests.render.test_escape import HOSTILE, PAYLOADS
from tests.review.conftest import GitRepo

from threatdelta.context import Overrides
from threatdelta.git import Repo
from threatdelta.publish.sticky import compose_comment
from threatdelta.render.comment import review_comment
from threatdelta.review.revisions import review_revisions

HEAD_SHA = "c" * 40
UNLIMITED = 10**8


def _characters(text: str) -> str:
    """``text`` without lone surrogates: model readers refuse those as not characters."""
    return "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)


MODEL_PAYLOADS = [_characters(p) for p in PAYLOADS]
# Held under the 200-character limit on ids and names (with room for a prefix).
MODEL_TEXT = HOSTILE.map(_characters).map(lambda text: text[:180])


def _otm(ids: list[str], names: list[str], description: str) -> bytes:
    components: list[dict[str, Any]] = [
        {"id": "nurse", "name": "Nurse", "type": "hospital-user"},
        {
            "id": "ctrl",
            "name": "Controller",
            "type": "control-unit",
            "parent": {"trustZone": "device"},
        },
    ]
    flows: list[dict[str, Any]] = []
    for i, (ident, name) in enumerate(zip(ids, names, strict=True)):
        components.append(
            {
                "id": f"{ident}",
                "name": name,
                "description": description,
                "type": "web-service",
                "parent": {"trustZone": "device"},
            }
        )
        flows.append(
            {
                "id": f"{ident}~flow{i}",
                "name": name,
                "source": "nurse",
                "destination": ident,
                "attributes": {"protocol": "tcp"},
            }
        )
    doc = {
        "otmVersion": "0.2.0",
        "project": {
            "name": description[:180] if description.strip() else "Pump",
            "id": "pump",
            "description": description,
        },
        "trustZones": [
            {"id": "device", "name": "Device", "type": "device", "risk": {"trustRating": 90}}
        ],
        "components": components,
        "dataflows": flows,
    }
    return json.dumps(doc, indent=1).encode()


class Reviewer:
    """One scratch repository; each call commits a base and a head and renders the comment."""

    def __init__(self, root: Path) -> None:
        self.repo = GitRepo(root)
        self.base = _otm([], [], "Pump")

    def comment(self, ids: list[str], names: list[str], description: str) -> str:
        self.repo.write("pump.otm.json", self.base.decode())
        base = self.repo.commit()
        self.repo.write("pump.otm.json", _otm(ids, names, description).decode())
        head = self.repo.commit()
        result = review_revisions(
            Repo(self.repo.root),
            base,
            head,
            overrides=Overrides(models=("pump.otm.json",), fail_on="unaddressed,regressions"),
            today=dt.date(2026, 11, 25),
        )
        # No size limit: the structure compared is the whole comment's, never a trimmed one's.
        body = review_comment(result, limit=UNLIMITED).body
        return compose_comment("default", HEAD_SHA, body, UNLIMITED, "")


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory: pytest.TempPathFactory) -> Reviewer:
    return Reviewer(tmp_path_factory.mktemp("inert"))


def _shape(body: str) -> tuple[list[str], list[str]]:
    """The rendered tags, and the first two lines (the hidden markers)."""
    return render(body).tags, body.splitlines()[:2]


def _assert_inert(body: str) -> None:
    out = render(body)
    assert out.links == [], out.links
    assert "img" not in out.tags
    assert out.live_references() == []
    assert out.hidden_characters() == []
    assert body.count("<!--") == 2


def _harmless(ids: list[str], names: list[str]) -> tuple[list[str], list[str]]:
    """Plain ids and names as long as the hostile ones, so both comments need the same room
    (a large comment is trimmed to fit GitHub's limit, which changes its shape)."""
    return (
        [f"c{i}".ljust(len(ident), "x") for i, ident in enumerate(ids)],
        [f"Name {i}".ljust(len(name), "x") for i, name in enumerate(names)],
    )


def _distinct(texts: list[str]) -> list[str]:
    return [f"{t}~{i}" for i, t in enumerate(texts)]


def test_the_known_payloads_as_ids_names_and_descriptions(reviewer: Reviewer) -> None:
    for start in range(0, len(MODEL_PAYLOADS), 5):
        chunk = MODEL_PAYLOADS[start : start + 5]
        ids = _distinct(chunk)
        hostile = reviewer.comment(ids, chunk, " ".join(chunk))
        harmless = reviewer.comment(*_harmless(ids, chunk), "Pump")
        _assert_inert(hostile)
        assert _shape(hostile) == _shape(harmless), chunk


def test_an_id_that_was_a_live_link_is_literal_copyable_code(reviewer: Reviewer) -> None:
    ident = "[click to approve](https://evil.example)**APPROVED**"
    body = reviewer.comment([ident], ["Approver"], "Pump")
    _assert_inert(body)
    assert f"`process-spoofing@{ident}`" in body
    assert f"process-spoofing@{ident}" in render(body).text


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(MODEL_TEXT, min_size=1, max_size=3), MODEL_TEXT)
def test_hostile_text_keeps_the_comments_structure(
    reviewer: Reviewer, texts: list[str], description: str
) -> None:
    ids = _distinct(texts)
    hostile = reviewer.comment(ids, texts, description)
    harmless = reviewer.comment(*_harmless(ids, texts), "Pump")
    _assert_inert(hostile)
    assert _shape(hostile) == _shape(harmless)
