"""Bytes to text: binary sniffing and an encoding fallback that never raises."""

from __future__ import annotations

import codecs
import re

SNIFF_BYTES = 8192
"""How much of a file's start is inspected for binary content (git looks at 8000 bytes)."""

CONTROL_RATIO_BINARY = 0.10
"""Share of non-text control bytes above which content counts as binary."""

_NOT_CONTROL = bytes([7, 8, 9, 10, 11, 12, 13, 27, *range(32, 256)])
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def looks_binary(head: bytes) -> bool:
    """True when the bytes look like a binary format rather than text."""
    if not head:
        return False
    if head.startswith(_UTF16_BOMS) or head.startswith(codecs.BOM_UTF32_LE):
        return False
    if b"\x00" in head:
        return True
    controls = len(head.translate(None, _NOT_CONTROL))
    return controls / len(head) > CONTROL_RATIO_BINARY


def decode_text(data: bytes) -> tuple[str, str, int]:
    """Decode file content: (text, encoding used, characters replaced).

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM are decoded as such. Invalid
    UTF-8 never raises: a file that is mostly UTF-8 keeps its UTF-8 and gets U+FFFD for
    the bad bytes; a file with no UTF-8 sequence at all is read as Windows-1252 (Latin-1
    for its five undefined bytes), the usual legacy encoding of such files.
    """
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        text = data.decode("utf-32", errors="replace")
        return text, "utf-32", text.count("\ufffd")
    if data.startswith(_UTF16_BOMS):
        text = data.decode("utf-16", errors="replace")
        return text, "utf-16", text.count("\ufffd")
    try:
        return data.decode("utf-8-sig"), "utf-8", 0
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        text = data.decode("utf-8-sig", errors="replace")
        return text, "utf-8", text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    return data.decode("cp1252", errors="_longdoc_latin1"), "cp1252", 0


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes cp1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) as Latin-1."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("_longdoc_latin1", _latin1_fallback)


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF, so that offsets and line numbers agree everywhere."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")
