"""Tests for reading diagram tabs into shapes and property values."""

from __future__ import annotations

from pathlib import Path

from tests.formats.fixtures.tm7.build_fixtures import (
    BENT,
    CONTROLLER,
    DANGLING,
    HOSPITAL,
    TAB_CLINIC,
    TAB_CLOUD,
)

from threatdelta.formats.geometry import Rect
from threatdelta.formats.tm7_drawing import read_surfaces
from threatdelta.formats.tm7_xml import parse_xml

FIXTURES = Path(__file__).parent / "fixtures" / "tm7"


def test_every_tab_with_its_shapes() -> None:
    root = parse_xml((FIXTURES / "two_tabs.tm7").read_bytes(), "m.tm7", ".tm7")
    surfaces = read_surfaces(root)
    assert [(s.guid, s.name, len(s.borders), len(s.lines)) for s in surfaces] == [
        (TAB_CLINIC, "Clinic", 6, 3),
        (TAB_CLOUD, "Cloud", 2, 4),
    ]
    clinic = surfaces[0]
    shapes = {s.guid: s for s in clinic.borders + clinic.lines}
    hospital = shapes[HOSPITAL]
    assert (hospital.shape, hospital.type_id, hospital.rect) == (
        "BorderBoundary",
        "GE.TB.B",
        Rect(300, 50, 500, 400),
    )
    controller = shapes[CONTROLLER]
    assert (controller.name, controller.generic_type_id, controller.surface_name) == (
        "Pump controller",
        "GE.P",
        "Clinic",
    )
    dangling = shapes[DANGLING]
    assert dangling.source == ""  # the nil GUID means: attached to nothing
    assert dangling.is_line
    bent = {s.guid: s for s in surfaces[1].lines}[BENT]
    assert (bent.source_point, bent.handle, bent.target_point) == (
        (650, 350),
        (500, 260),
        (350, 350),
    )


def test_property_kinds() -> None:
    data = (
        b'<ThreatModel xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        b"<DrawingSurfaceList><DrawingSurfaceModel><Guid>t</Guid><Borders><KV><Key>e</Key>"
        b'<Value i:type="StencilEllipse"><Guid>e</Guid><TypeId>GE.P</TypeId><Properties>'
        b'<anyType i:type="b:ListDisplayAttribute"><DisplayName>L</DisplayName><Name>list</Name>'
        b"<Value><string>A</string><string>B</string></Value><SelectedIndex>1</SelectedIndex>"
        b"</anyType>"
        b'<anyType i:type="b:ListDisplayAttribute"><DisplayName>O</DisplayName><Name>out</Name>'
        b"<Value><string>A</string></Value><SelectedIndex>5</SelectedIndex></anyType>"
        b'<anyType i:type="b:StaticListDisplayAttribute"><DisplayName>S</DisplayName>'
        b"<Name>static</Name><Value><string>Only</string></Value></anyType>"
        b'<anyType i:type="b:BooleanDisplayAttribute"><DisplayName>B</DisplayName>'
        b"<Name>flag</Name><Value>true</Value></anyType>"
        b'<anyType i:type="b:StringDisplayAttribute"><DisplayName>Note</DisplayName>'
        b"<Name>note</Name><Value> kept as written </Value></anyType>"
        b'<anyType i:type="b:StringDisplayAttribute"><DisplayName>Nil</DisplayName>'
        b'<Name>nil</Name><Value i:nil="true"/></anyType>'
        b'<anyType i:type="b:StringDisplayAttribute"><DisplayName>Unnamed</DisplayName>'
        b"<Name/><Value>dropped</Value></anyType>"
        b"</Properties></Value></KV></Borders></DrawingSurfaceModel></DrawingSurfaceList>"
        b"</ThreatModel>"
    )
    (surface,) = read_surfaces(parse_xml(data, "p.tm7", ".tm7"))
    assert surface.name == "Diagram 1"  # unnamed tabs are numbered
    (shape,) = surface.borders
    assert dict(shape.properties) == {
        "list": "B",
        "out": None,
        "static": "Only",
        "flag": True,
        "note": " kept as written ",
        "nil": None,
    }
