"""Turning the bytes of a model, rule pack or settings file into text, in one place.

Text files are UTF-8 (a byte-order mark is allowed). Editors on Windows also save UTF-16, and
YAML and JSON both allow UTF-16 and UTF-32 with a byte-order mark, so those are read too: by
their byte-order mark, or for UTF-16 without one by the zero bytes of its first characters.
Anything that does not decode is refused with the line and column where decoding failed.
"""

from __future__ import annotations

import codecs
import unicodedata

from threatdelta.errors import InputError, Location

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def text_encoding(data: bytes) -> tuple[str, int]:
    """The encoding ``data`` is written in and the length of its byte-order mark."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    if len(data) >= 4 and data[0] and not data[1] and data[2] and not data[3]:
        return "utf-16-le", 0
    if len(data) >= 4 and not data[0] and data[1] and not data[2] and data[3]:
        return "utf-16-be", 0
    return "utf-8", 0


def decode_text(data: bytes, path: str) -> str:
    """``data`` as text (see the module's description); a located error when it is not text."""
    name, skip = text_encoding(data)
    body = data[skip:]
    try:
        return body.decode(name)
    except UnicodeDecodeError as error:
        prefix = body[: error.start].decode(name, errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        shown = "UTF-8" if name == "utf-8" else name.upper()
        raise InputError(
            f"the file is not valid {shown} text (byte 0x{body[error.start]:02x} at offset "
            f"{error.start + skip}); save it as UTF-8",
            Location(path, line, column),
        ) from None


def as_utf8(data: bytes, path: str) -> bytes:
    """``data`` re-encoded as UTF-8 when it is UTF-16 or UTF-32 text; otherwise unchanged."""
    name, _ = text_encoding(data)
    if name == "utf-8":
        return data
    return decode_text(data, path).encode("utf-8")


INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5")
"""Characters that are letters or marks to Unicode but show as nothing."""

HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
"""Controls, format characters (bidi marks and overrides, zero-width characters, tags), lone
surrogates and line/paragraph separators."""


def hidden(ch: str) -> bool:
    """True for a character a reader does not see: a control, a format character (bidi override,
    zero-width space), a line separator or an invisible letter."""
    return unicodedata.category(ch) in HIDDEN_CATEGORIES or ch in INVISIBLE_LETTERS


def as_shown(text: str) -> str:
    """``text`` as a reader sees it, for comparing what a person wrote: compatibility forms
    folded (full-width ``ＷＨＯ`` is ``WHO``), hidden characters dropped, runs of white space made
    one space, the ends trimmed."""
    if text.isascii() and text.isprintable():  # nothing to fold, nothing hidden
        return " ".join(text.split())
    folded = unicodedata.normalize("NFKC", text)
    return " ".join("".join(ch if not hidden(ch) else "" for ch in folded).split())
