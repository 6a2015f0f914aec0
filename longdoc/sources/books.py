"""Books: chapter and section detection, Project Gutenberg framing, EPUB and PDF readers.

Sections become `Document.sections` (title, start offset, level), so that splitters can
cut at chapter starts and answers can say which chapter they come from. The Gutenberg
header and licence are marked as sections of their own and their bounds kept in
`meta["body_start"]` / `meta["body_end"]`, so pipelines can leave the licence out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ..documents import Section
from ..errors import SourceError

_GUTENBERG_START = re.compile(
    r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK[^\n]*$", re.IGNORECASE | re.MULTILINE
)
_GUTENBERG_END = re.compile(
    r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK[^\n]*$", re.IGNORECASE | re.MULTILINE
)

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|first|second|"
    "third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last"
)
_ROMAN = r"[IVXLCDM]+"

_CHAPTER_LINE = re.compile(
    rf"^[ \t]*(?P<word>CHAPTER|Chapter|BOOK|Book|PART|Part|VOLUME|Volume|ACT|Act|SCENE|Scene|"
    rf"EPILOGUE|Epilogue|PROLOGUE|Prologue|STAVE|Stave|LETTER|Letter)"
    rf"(?:[ \t]+(?:\d+|{_ROMAN}|(?i:{_NUMBER_WORDS})(?:[- ](?i:{_NUMBER_WORDS}))?))?\b[^\n]{{0,70}}$",
    re.MULTILINE,
)
_ROMAN_LINE = re.compile(rf"^[ \t]*(?P<numeral>{_ROMAN})\.?[ \t]*$", re.MULTILINE)
_CAPS_LINE = re.compile(r"^[ \t]*(?=[^\n]*[A-Z]{3})[A-Z0-9][A-Z0-9 ,.'’:;!?&-]{2,60}$", re.MULTILINE)
_MARKDOWN_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>[^\n]+?)[ \t#]*$", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)

_LEVELS = {"VOLUME": 1, "BOOK": 1, "PART": 1, "ACT": 1, "PROLOGUE": 2, "EPILOGUE": 2}


def gutenberg_bounds(text: str) -> tuple[int, int] | None:
    """(body start, body end) between the Project Gutenberg START and END markers."""
    start = _GUTENBERG_START.search(text)
    if start is None:
        return None
    end = _GUTENBERG_END.search(text, start.end())
    body_start = start.end() + 1 if start.end() < len(text) else start.end()
    return body_start, end.start() if end else len(text)


def _blank_before(text: str, at: int) -> bool:
    """The line starting at `at` opens the text or follows a blank line."""
    if at == 0:
        return True
    previous_start = text.rfind("\n", 0, at - 1) + 1
    return not text[previous_start : at - 1].strip()


def _blank_after(text: str, end: int) -> bool:
    """The line ending at `end` closes the text or is followed by a blank line."""
    if end >= len(text) - 1:
        return True
    next_end = text.find("\n", end + 1)
    return not text[end + 1 : len(text) if next_end == -1 else next_end].strip()


def detect_plain_sections(text: str, lo: int = 0, hi: int | None = None) -> list[Section]:
    """Chapter-like headings of plain text in [lo, hi): `CHAPTER 4`, `BOOK II`, a roman
    numeral alone, a short ALL-CAPS title line; each must stand apart (blank line before)."""
    hi = len(text) if hi is None else hi
    found: dict[int, Section] = {}
    for match in _CHAPTER_LINE.finditer(text, lo, hi):
        if _blank_before(text, match.start()):
            word = match.group("word").upper()
            found[match.start()] = Section(
                title=match.group(0).strip(), start=match.start(), level=_LEVELS.get(word, 2)
            )
    for match in _ROMAN_LINE.finditer(text, lo, hi):
        if match.start() not in found and _blank_before(text, match.start()) and _blank_after(text, match.end()):
            found[match.start()] = Section(title=match.group(0).strip(), start=match.start(), level=2)
    if not found:
        for match in _CAPS_LINE.finditer(text, lo, hi):
            if _blank_before(text, match.start()) and _blank_after(text, match.end()):
                found[match.start()] = Section(title=match.group(0).strip(), start=match.start(), level=2)
    return [found[start] for start in sorted(found)]


def detect_markdown_sections(text: str) -> list[Section]:
    """ATX headings (`# Title`), ignoring lines inside fenced code blocks."""
    fenced: list[tuple[int, int]] = []
    fences = list(_FENCE.finditer(text))
    for opening, closing in zip(fences[::2], fences[1::2], strict=False):
        fenced.append((opening.start(), closing.end()))
    if len(fences) % 2:
        fenced.append((fences[-1].start(), len(text)))
    sections = []
    for match in _MARKDOWN_HEADING.finditer(text):
        if any(a <= match.start() < b for a, b in fenced):
            continue
        sections.append(
            Section(title=match.group("title").strip(), start=match.start(), level=len(match.group("hashes")))
        )
    return sections


def book_structure(text: str, *, markdown: bool = False) -> tuple[list[Section], dict]:
    """Sections and meta of a book-like text, Gutenberg framing included."""
    meta: dict = {}
    bounds = gutenberg_bounds(text)
    lo, hi = (bounds if bounds else (0, len(text)))
    sections: list[Section] = []
    if bounds:
        meta.update(gutenberg=True, body_start=lo, body_end=hi)
        sections.append(Section(title="Project Gutenberg header", start=0, level=0))
    body = detect_markdown_sections(text) if markdown else detect_plain_sections(text, lo, hi)
    body = [s for s in body if lo <= s.start < hi]
    if bounds and (not body or body[0].start > lo):
        sections.append(Section(title="Text", start=lo, level=0))
    sections.extend(body)
    if bounds and hi < len(text):
        sections.append(Section(title="Project Gutenberg licence", start=hi, level=0))
    return sections, meta


def looks_like_book(text: str, sections: list[Section], min_chars: int) -> bool:
    chapters = [s for s in sections if s.level > 0]
    return len(text) >= min_chars or len(chapters) >= 3 or any(s.level == 0 for s in sections)


class _HtmlText(HTMLParser):
    """Visible text of an XHTML chapter, with block elements as paragraphs."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section"})
    _SKIP = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.headings: list[str] = []
        self._skip = 0
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")
        if tag in {"h1", "h2", "h3"} and self._heading is None:
            self._heading = []

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")
        if tag in {"h1", "h2", "h3"} and self._heading is not None:
            title = " ".join("".join(self._heading).split())
            if title:
                self.headings.append(title)
            self._heading = None

    def handle_data(self, data):
        if self._skip:
            return
        self.parts.append(data)
        if self._heading is not None:
            self._heading.append(data)

    def text(self) -> str:
        joined = "".join(self.parts)
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", joined)]
        return "\n\n".join(p for p in paragraphs if p)


def read_epub(path: Path) -> tuple[str, list[Section], dict]:
    """Text of an EPUB in spine order; each chapter file's first heading is a section."""
    try:
        import ebooklib
        from ebooklib import epub
    except ImportError as exc:
        raise SourceError("reading .epub needs the `books` extra (ebooklib)", path=path) from exc
    try:
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises bare Exceptions and zipfile/lxml errors
        raise SourceError(f"not a readable EPUB ({exc})", path=path) from exc
    parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        parser = _HtmlText()
        parser.feed(item.get_content().decode("utf-8", errors="replace"))
        chapter = parser.text()
        if not chapter:
            continue
        if parts:
            parts.append("\n\n")
            offset += 2
        if parser.headings:
            sections.append(Section(title=parser.headings[0], start=offset, level=1))
        parts.append(chapter)
        offset += len(chapter)
    titles = book.get_metadata("DC", "title")
    meta = {"format": "epub", "title": titles[0][0] if titles else None}
    return "".join(parts), sections, meta


def read_pdf(path: Path) -> tuple[str, list[Section], dict]:
    """Text of a PDF, pages separated by blank lines; outline entries become sections."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise SourceError("reading .pdf needs the `books` extra (pypdf)", path=path) from exc
    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise SourceError(f"not a readable PDF ({exc})", path=path) from exc
    page_starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page_text in pages:
        if parts:
            parts.append("\n\n")
            offset += 2
        page_starts.append(offset)
        parts.append(page_text)
        offset += len(page_text)
    text = "".join(parts)
    sections = _pdf_outline(reader, page_starts)
    if not sections:
        sections = detect_plain_sections(text)
    return text, sections, {"format": "pdf", "pages": len(pages)}


def _pdf_outline(reader, page_starts: list[int]) -> list[Section]:
    sections: list[Section] = []

    def walk(entries, level: int) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(entry)
            except (KeyError, ValueError, AttributeError, TypeError):
                continue
            if 0 <= page < len(page_starts):
                sections.append(Section(title=str(entry.title), start=page_starts[page], level=level))

    try:
        walk(reader.outline, 1)
    except (KeyError, ValueError, AttributeError, TypeError):
        return []
    return sorted(sections, key=lambda s: s.start)
