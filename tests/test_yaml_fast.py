"""The floor the review benchmark compares with reads the same data as the model reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatdelta.errors import InputError
from threatdelta.yaml_fast import parse_document
from threatdelta.yaml_loader import load_yaml

EXAMPLE = Path(__file__).parents[1] / "examples" / "infusion-pump" / "threatmodel.yaml"


def test_parse_document_reads_a_model_as_the_loader_does() -> None:
    data = EXAMPLE.read_bytes()
    assert parse_document(data) == load_yaml(data, "m.yaml", _quick=False).data


def test_parse_document_refuses_what_the_loader_refuses() -> None:
    with pytest.raises(InputError, match="duplicate key"):
        parse_document(b"a: 1\na: 2\n")
