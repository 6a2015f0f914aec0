"""Books: chapters and sections from plain text, Markdown, Gutenberg framing, EPUB and PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from longdoc.sources import load
from longdoc.sources.books import detect_markdown_sections, detect_plain_sections

GUTENBERG_BOOK = """The Project Gutenberg EBook of A Short Tale

Title: A Short Tale

*** START OF THIS PROJECT GUTENBERG EBOOK A SHORT TALE ***

Produced by someone


CHAPTER I

It was a dark night. The wind blew.

CHAPTER II. The Morning

The sun rose over the hills.

III

A chapter numbered by a roman numeral alone.

*** END OF THIS PROJECT GUTENBERG EBOOK A SHORT TALE ***

START: FULL LICENSE
"""


def test_gutenberg_book_has_framing_and_chapters(tmp_path: Path):
    path = tmp_path / "tale.txt"
    path.write_text(GUTENBERG_BOOK, encoding="utf-8")
    [doc] = load(path).documents
    assert doc.kind == "book"
    titles = [(s.title, s.level) for s in doc.sections]
    assert titles == [
        ("Project Gutenberg header", 0),
        ("Text", 0),
        ("CHAPTER I", 2),
        ("CHAPTER II. The Morning", 2),
        ("III", 2),
        ("Project Gutenberg licence", 0),
    ]
    for section in doc.sections[2:5]:
        assert doc.text[section.start :].startswith(section.title)
    body = doc.text[doc.meta["body_start"] : doc.meta["body_end"]]
    assert body.lstrip().startswith("Produced by") and "END OF THIS PROJECT" not in body


def test_plain_headings_need_to_stand_apart():
    text = "He read chapter 4 of it.\nCHAPTER 4 was long\n\nBOOK TWO\n\nText.\n\nPart 3: The End\n\nMore.\n"
    assert [s.title for s in detect_plain_sections(text)] == ["BOOK TWO", "Part 3: The End"]


def test_short_text_without_chapters_stays_text(tmp_path: Path):
    path = tmp_path / "note.txt"
    path.write_text("Just a note.\n", encoding="utf-8")
    [doc] = load(path).documents
    assert doc.kind == "text" and doc.sections == ()


def test_markdown_headings_skip_fenced_code():
    text = "# Title\n\nIntro.\n\n```python\n# not a heading\n```\n\n## Part\n\ntext\n"
    assert [(s.title, s.level) for s in detect_markdown_sections(text)] == [("Title", 1), ("Part", 2)]


def test_epub_chapters_in_spine_order(tmp_path: Path):
    epub = pytest.importorskip("ebooklib.epub")
    book = epub.EpubBook()
    book.set_identifier("id-1")
    book.set_title("Two Chapters")
    book.set_language("en")
    chapters = []
    for number, body in ((1, "The first chapter begins."), (2, "The second one follows.")):
        chapter = epub.EpubHtml(title=f"Chapter {number}", file_name=f"c{number}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>Chapter {number}</h1><p>{body}</p></body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.spine = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    path = tmp_path / "two.epub"
    epub.write_epub(str(path), book)

    [doc] = load(path).documents
    assert doc.kind == "book" and doc.meta["format"] == "epub" and doc.meta["title"] == "Two Chapters"
    assert [s.title for s in doc.sections] == ["Chapter 1", "Chapter 2"]
    assert doc.text.index("first chapter") < doc.text.index("second one")
    assert doc.text[doc.sections[1].start :].startswith("Chapter 2")


def _write_pdf(path: Path, pages: list[str], outline: list[tuple[str, int]]) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    for title, page_number in outline:
        writer.add_outline_item(title=title, page_number=page_number)
    with path.open("wb") as handle:
        writer.write(handle)


def test_pdf_pages_and_outline(tmp_path: Path):
    pytest.importorskip("pypdf")
    path = tmp_path / "doc.pdf"
    _write_pdf(path, ["Opening page text.", "Second page text.", "Third page text."], [("Start", 0), ("Later", 2)])
    [doc] = load(path).documents
    assert doc.kind == "book" and doc.meta == {"format": "pdf", "pages": 3}
    assert "Opening page text." in doc.text and "Third page text." in doc.text
    assert [s.title for s in doc.sections] == ["Start", "Later"]
    assert doc.text[doc.sections[1].start :].startswith("Third page")


def test_corrupt_pdf_is_unreadable_in_a_folder(tmp_path: Path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    (tmp_path / "ok.txt").write_text("fine\n", encoding="utf-8")
    result = load(tmp_path)
    assert [d.path for d in result.documents] == ["ok.txt"]
    assert [(s.path, s.reason) for s in result.skipped] == [("bad.pdf", "unreadable")]
