"""Safe loading of Threat Modeling Tool XML (.tm7 models, .tb7 templates), and small lookups.

Both file kinds are DataContract XML written by Microsoft's Threat Modeling Tool. They are
untrusted input: parsing goes through ``defusedxml`` with DTDs and entities refused, the input
size and the number of elements are bounded, and a few wrong-file cases (a ZIP archive, an
empty file, a JSON file) are recognised before parsing so the user gets a message that says
what the file really is.

The tool writes namespaced elements in models and plain ones in templates; the lookups here
ignore namespaces (``{*}name``), so one reader serves both.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET
from xml.etree.ElementTree import Element as XmlElement

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from threatdelta.encoding import text_encoding
from threatdelta.errors import InputError, Location
from threatdelta.limits import (
    MAX_FILE_BYTES,
    MAX_ITEMS,
    MAX_NESTING,
    MAX_XML_TAGS,
    string_problem,
    too_many_items,
)
from threatdelta.positions import FirstMention, Positions

MAX_INPUT_BYTES = MAX_FILE_BYTES
"""Largest file accepted; the biggest real models are a few MiB."""
MAX_ELEMENTS = MAX_XML_TAGS
"""Most XML tags (start tags, comments, ...) accepted in one file; bounds the element count."""

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
"""The ``xsi:type`` attribute, which says which shape or property kind an element is."""
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
"""The ``xsi:nil`` attribute of empty values."""

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_UTF8_BOM = b"\xef\xbb\xbf"


def _head(data: bytes) -> bytes:
    """The first bytes of ``data`` without a UTF-8 byte-order mark and leading white space."""
    head = data[:4096]
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    return head.lstrip()


def refuse_wrong_file(data: bytes, path: str, what: str) -> None:
    """Raise a clear :class:`InputError` when ``data`` cannot be a ``what`` file at all."""
    where = Location(path)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(
            f"the file is {len(data)} bytes, larger than the {MAX_INPUT_BYTES // (1024 * 1024)} MiB "
            f"accepted for a {what} file; check that the path names the right file",
            where,
        )
    if data.startswith(_ZIP_MAGIC):
        raise InputError(
            f"this is a ZIP archive, not a {what} file; unpack it, or point threatdelta at "
            f"the {what} file the Threat Modeling Tool saved",
            where,
        )
    head = _head(data)
    if not head:
        raise InputError(f"the file is empty, not a {what} file", where)
    if head[:1] in (b"{", b"["):
        raise InputError(
            f"the file looks like JSON, not a {what} file (the Threat Modeling Tool saves XML)",
            where,
        )
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise InputError(_dtd_message(what), where)


def _dtd_message(what: str) -> str:
    return (
        f"the file declares a DTD / entities, which are refused: a {what} file written by the "
        "Threat Modeling Tool never has them, and they can be used to exhaust memory "
        "(entity expansion); remove the <!DOCTYPE ...> block"
    )


def parse_xml(data: bytes, path: str, what: str) -> XmlElement:
    """Parse ``data`` safely and return its root element.

    ``what`` names the expected file kind in messages (``.tm7``, ``.tb7``). Raises
    :class:`InputError` for anything that is not well-formed, bounded, DTD-free XML.
    """
    refuse_wrong_file(data, path, what)
    # Every element needs a "<" that does not start a closing tag, and entities are refused, so
    # this bounds the element count before any tree is built.
    if data.count(b"<") - data.count(b"</") > MAX_ELEMENTS:
        raise InputError(
            f"the file has more than {MAX_ELEMENTS} XML tags, more than a {what} file "
            "can sensibly hold; it is refused",
            Location(path),
        )
    try:
        root: XmlElement = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException:
        raise InputError(_dtd_message(what), Location(path)) from None
    except StdET.ParseError as error:
        line, column = getattr(error, "position", (None, None))
        raise InputError(
            f"the file is not well-formed XML ({_parse_reason(error)}), so it is not a readable "
            f"{what} file; open and save it again in the Threat Modeling Tool",
            Location(path, line, None if column is None else column + 1),
        ) from None
    except (LookupError, ValueError) as error:  # an encoding Python does not know, say
        raise InputError(
            f"the XML cannot be decoded ({_first_line(str(error))}); a {what} file written by the "
            "Threat Modeling Tool is UTF-8 (or UTF-16) XML",
            Location(path, 1, 1),
        ) from None
    _check_tree(root, path)
    return root


def _first_line(text: str) -> str:
    return text.splitlines()[0][:120] if text else "unknown reason"


def _check_tree(root: XmlElement, path: str) -> None:
    """Refuse XML nested deeper than the nesting limit or holding an overlong text."""
    stack: list[tuple[XmlElement, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise InputError(
                f"XML elements are nested more than {MAX_NESTING} deep (at <{local_name(str(node.tag))[:80]}>); "
                "a Threat Modeling Tool file never is",
                Location(path),
            )
        if len(node) > MAX_ITEMS:
            raise InputError(
                too_many_items(len(node), f"<{local_name(str(node.tag))[:80]}>"),
                Location(path),
            )
        for value in (node.text, node.tail, *node.attrib.values()):
            problem = string_problem(value) if value else None
            if problem is not None:
                raise InputError(
                    f"<{local_name(str(node.tag))[:80]}> holds {problem}", Location(path)
                )
        stack.extend((item, depth + 1) for item in node)


def _parse_reason(error: StdET.ParseError) -> str:
    text = str(error)
    return text.split(":", 1)[0] if ":" in text else text


def local_name(tag: str) -> str:
    """``tag`` without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def child(parent: XmlElement | None, name: str) -> XmlElement | None:
    """The first child called ``name`` in any namespace, or None."""
    if parent is None:
        return None
    return parent.find("{*}" + name)


def children(parent: XmlElement | None, name: str) -> list[XmlElement]:
    """Every child called ``name`` in any namespace."""
    if parent is None:
        return []
    return parent.findall("{*}" + name)


def text(parent: XmlElement | None, name: str, default: str = "") -> str:
    """The text of the first child called ``name`` (any namespace), or ``default``."""
    node = child(parent, name)
    if node is None or node.text is None:
        return default
    return node.text


def first_text(parent: XmlElement | None, *names: str) -> str:
    """The text of the first of ``names`` present as a child (element or attribute), else ''."""
    if parent is None:
        return ""
    for name in names:
        node = child(parent, name)
        if node is not None and node.text is not None:
            return node.text
        if name in parent.attrib:
            return parent.attrib[name]
    return ""


def number(parent: XmlElement | None, name: str) -> float | None:
    """The child ``name`` read as a finite number, or None when absent or not a number."""
    raw = text(parent, name).strip()
    if not raw or len(raw) > 40:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def is_nil(node: XmlElement | None) -> bool:
    """True for an absent element or one marked ``xsi:nil="true"``."""
    return node is None or node.get(XSI_NIL) == "true"


def xsi_type(node: XmlElement) -> str:
    """The ``xsi:type`` of ``node`` without its prefix (``BorderBoundary``), or ''."""
    return node.get(XSI_TYPE, "").rpartition(":")[2]


_IDENTITY_IN_TEXT = re.compile(r"<(?:[\w.-]+:)?(?:Guid|Id)(?:\s[^>]*)?>\s*([^<\s]+)\s*</")


def xml_positions(data: bytes, path: str) -> Positions:
    """Where each item of a Threat Modeling Tool file is written, asked by its identity:
    ``(value,)`` is located at the first ``<Guid>value</Guid>`` or ``<Id>value</Id>`` element (a
    model's shapes have their GUIDs, a template's threat types their ids), found with one scan.
    Undecodable bytes become replacement characters here (the parser has already accepted the
    file)."""
    name, skip = text_encoding(data)
    return FirstMention(data[skip:].decode(name, errors="replace"), path, _IDENTITY_IN_TEXT)
