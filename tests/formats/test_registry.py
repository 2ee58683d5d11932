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


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
@pytest.mark.parametrize(
    ("path", "text", "fmt"),
    [
        ("threatmodel.yaml", NATIVE.decode(), "native"),
        ("m.otm.yaml", "otmVersion: 0.2.0\nproject: {name: P, id: p}\n", "otm"),
        ("m.otm.json", '{"otmVersion": "0.2.0", "project": {"name": "P", "id": "p"}}', "otm"),
        ("m.json", '{"summary": {"title": "T"}, "detail": {"diagrams": []}}', "dragon"),
    ],
)
def test_utf16_and_utf32_models_are_recognised_and_read(
    codec: str, path: str, text: str, fmt: str
) -> None:
    assert read_model(text.encode(codec), path).model.format == fmt


def test_a_native_model_with_a_megabyte_before_its_elements_is_recognised() -> None:
    boundaries = "".join(
        f"  - {{id: b{i}, name: B{i}, kind: network, description: {'x' * 8000}}}\n"
        for i in range(150)
    )
    data = (
        f"version: 1\nsystem: S\nboundaries:\n{boundaries}elements:\n  - {{id: a, type: process}}\n"
    )
    assert len(data) > 1024 * 1024
    assert detect("threatmodel.yaml", data.encode()) == "native"
    assert read_model(data.encode(), "threatmodel.yaml").model.elements[0].id == "a"


def test_readers_are_registered_as_typed_objects_named_like_their_modules() -> None:
    import importlib

    from threatdelta.formats.registry import FORMAT_NAMES, READERS, reader

    assert FORMAT_NAMES == ("native", "tm7", "dragon", "otm")
    for format_name, registered in READERS.items():
        assert reader(format_name) is registered
        assert registered.name == format_name
        assert importlib.import_module(registered.module).name == format_name
