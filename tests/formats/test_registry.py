import pytest

from threatdelta.errors import InputError
from threatdelta.formats.registry import detect, read_model

NATIVE = b"version: 1\nsystem: x\nelements:\n  - {id: a, type: process}\n"


def test_detects_by_extension_and_content() -> None:
    assert detect("threatmodel.yaml", NATIVE) == "native"
    assert detect("model.tm7", b"<ThreatModel/>") == "tm7"


def test_template_is_not_a_model() -> None:
    with pytest.raises(InputError, match="--rules"):
        detect("MedicalDeviceTemplate.tb7", b"<KnowledgeBase/>")


def test_unknown_content_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InputError, match="cannot tell which model format"):
        detect("notes.yaml", b"shopping: [milk]\n")


def test_read_model_native() -> None:
    parsed = read_model(NATIVE, "threatmodel.yaml")
    assert parsed.model.format == "native" and [e.id for e in parsed.model.elements] == ["a"]
