"""Reading one YAML document as plain data, as fast as threatdelta reads a model.

:func:`parse_document` is what every reading of a native model costs at least: decoding the
bytes and building the data with the bounded loader's quick path (no schema, no model, no
positions kept beyond the top two levels). ``bench/run.py`` times a review against two of these,
one per revision, as its floor.
"""

from __future__ import annotations

from typing import Any

from threatdelta.yaml_loader import load_yaml

__all__ = ["parse_document"]


def parse_document(data: bytes) -> Any:
    """The plain data of the YAML document ``data``; raise InputError when it is refused."""
    return load_yaml(data, "document.yaml").data
