"""Reading Threat Dragon documents in tests: the hand-made fixtures and small documents built in
place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from threatdelta.formats import dragon
from threatdelta.formats.interface import ParsedModel

FIXTURES = Path(__file__).parent / "fixtures" / "dragon"
V2 = FIXTURES / "pump-v2.json"
V1 = FIXTURES / "pump-v1.json"


def read_path(path: Path) -> ParsedModel:
    return dragon.read(path.read_bytes(), str(path))


def read_doc(doc: Any, path: str = "model.json") -> ParsedModel:
    return dragon.read(json.dumps(doc, indent=2).encode(), path)


def minimal(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {"summary": {"title": "T"}, "detail": {"diagrams": [{"id": 0, "cells": cells}]}}


def cell(cell_id: str, kind: str, x: float = 0, y: float = 0, **data: Any) -> dict[str, Any]:
    return {
        "id": cell_id,
        "shape": kind,
        "position": {"x": x, "y": y},
        "size": {"width": 50, "height": 50},
        "data": {"type": f"tm.{kind.capitalize()}", **data},
    }
