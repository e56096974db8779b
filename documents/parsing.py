"""From uploaded bytes to text with its pages and sections: a pure core, no ORM.

The type is decided by the content (magic bytes, decoding), the filename only breaks the
tie between plain text and Markdown. Every failure is a `ParseError` whose message a
learner can act on; nothing half-parsed comes out.
"""

import contextlib
import io
import re
from dataclasses import dataclass, field

from core.errors import UserFacingError


class ParseError(UserFacingError):
    title = "This file could not be read"


class UnsupportedType(UserFacingError):
    status_code = 415
    title = "Unsupported file type"


SECTION_JOIN = " \u203a "  # headings of a path: "Tenses, then Present perfect"
ACCEPTED = "Upload a .txt, .md, .pdf or .html file."

# Signatures of common files that are certainly not text.
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (Word, Excel and EPUB files are ZIP archives)",
    b"\x7fELF": "a program",
    b"MZ": "a program",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"\x1f\x8b": "a compressed file",
    b"RIFF": "an audio or video file",
}
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_MD_NAMES = (".md", ".markdown", ".mdown")


@dataclass
class Parsed:
    """Extracted text, where each page starts in it, and each section heading."""

    text: str
    kind: str
    title: str = ""
    page_starts: list[int] = field(default_factory=list)  # offsets; page n starts at [n-1]
    sections: list[tuple[int, str]] = field(default_factory=list)  # (offset, heading path)

    @property
    def page_count(self) -> int | None:
        return len(self.page_starts) or None


def detect_type(data: bytes, filename: str) -> str:
    """`pdf`, `html`, `markdown` or `text`, from the bytes; UnsupportedType otherwise."""
    if not data.strip():
        raise ParseError("The file is empty.")
    if data.startswith(b"%PDF-"):
        return "pdf"
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise UnsupportedType(f"This file is {what}, not a document. {ACCEPTED}")
    head = decode_text(data)[:65536]
    if _HTML_START.match(data[:2048]):
        return "html"
    if filename.lower().endswith(_MD_NAMES) or _MD_HEADING.search(head):
        return "markdown"
    return "text"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with a BOM; binary content is refused."""
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    text = _decoded(data, encoding)
    controls = sum(1 for c in text[:65536] if c < " " and c not in "\n\r\t\f")
    if "\x00" in text or controls > len(text[:65536]) * 0.01:
        raise UnsupportedType(f"This file looks binary, not text. {ACCEPTED}")
    return text


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UnsupportedType(f"This file is not UTF-8 text (or is binary). {ACCEPTED}") from None


def parse(data: bytes, kind: str, *, max_pages: int, max_chars: int | None = None) -> Parsed:
    """Raises ParseError when the file holds more than `max_chars` characters of text (a
    PDF stops at the first page past it)."""
    limit = max_chars if max_chars is not None else 10**12
    parsed = {"pdf": _pdf, "html": _html, "markdown": _markdown, "text": _plain}[kind](
        data, max_pages, limit
    )
    if not parsed.text.strip():
        raise ParseError("No text was found in this file.")
    _check_length(len(parsed.text), limit)
    return parsed


def _check_length(length: int, max_chars: int) -> None:
    if length > max_chars:
        raise ParseError(
            f"This document has more text than we index (over {max_chars:,} characters). "
            "Split it into smaller files and upload those."
        )


def check(data: bytes, kind: str, *, max_pages: int) -> int | None:
    """Cheap checks made at upload, before any job: a PDF opens, is not locked and has
    not too many pages. Returns its page count."""
    if kind != "pdf":
        return None
    return len(_pdf_reader(data, max_pages).pages)


# --- PDF --------------------------------------------------------------------------------


def _pdf_reader(data: bytes, max_pages: int):
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError(
                "This PDF is password-protected. Remove the password and upload it again."
            )
        count = len(reader.pages)
    except ParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, NotImplementedError) as exc:
        raise ParseError("This PDF is damaged and could not be read.", detail=str(exc)) from exc
    if count == 0:
        raise ParseError("This PDF has no pages.")
    if count > max_pages:
        raise ParseError(f"This PDF has {count} pages; the limit is {max_pages}.")
    return reader


def _pdf(data: bytes, max_pages: int, max_chars: int) -> Parsed:
    from pypdf.errors import PyPdfError

    reader = _pdf_reader(data, max_pages)
    texts, starts, offset = [], [], 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            page_text = _tidy(page.extract_text() or "")
        except (PyPdfError, ValueError, KeyError, TypeError) as exc:
            raise ParseError(f"Page {number} of this PDF is damaged.", detail=str(exc)) from exc
        starts.append(offset)
        texts.append(page_text)
        offset += len(page_text) + 2
        _check_length(offset - 2, max_chars)  # before spending time on the next page
    text = "\n\n".join(texts)
    if not text.strip():
        raise ParseError("This PDF has no text layer (is it a scan?). Upload a PDF with text.")
    title = ""
    with contextlib.suppress(PyPdfError, ValueError, TypeError):  # a title is a nicety
        title = str((reader.metadata or {}).get("/Title") or "")
    return Parsed(text=text, kind="pdf", title=title, page_starts=starts)


# --- HTML -------------------------------------------------------------------------------

_BLOCKS = {"p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _html(data: bytes, max_pages: int, max_chars: int) -> Parsed:
    """The article's main text (readability-lxml drops navigation and footers), with its
    headings as sections."""
    import lxml.html
    from lxml.etree import ParserError
    from readability import Document as Readable

    source = decode_text(data)
    try:
        readable = Readable(source)
        main = lxml.html.fromstring(readable.summary(html_partial=True))
        title = readable.short_title() or ""
    except (ParserError, ValueError) as exc:
        raise ParseError("This web page could not be read.", detail=str(exc)) from exc
    parts: list[str] = []
    sections: list[tuple[int, str]] = []
    path: list[str] = []
    offset = 0
    for element in main.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag not in _BLOCKS and tag not in _HEADINGS:
            continue
        if tag in _BLOCKS and element.getparent() is not None and _inside_block(element):
            continue
        words = " ".join(element.text_content().split())
        if not words:
            continue
        if tag in _HEADINGS:
            path = _heading_path(path, int(tag[1]), words)
            sections.append((offset, SECTION_JOIN.join(h for h in path if h)))
        parts.append(words)
        offset += len(words) + 2
    return Parsed(text="\n\n".join(parts), kind="html", title=title, sections=sections)


def _inside_block(element) -> bool:
    parent = element.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and parent.tag in _BLOCKS:
            return True
        parent = parent.getparent()
    return False


def _heading_path(path: list[str], level: int, heading: str) -> list[str]:
    path = (path + [""] * 6)[: level - 1]
    return [*path, heading[:120]]


# --- Text and Markdown ------------------------------------------------------------------


def _plain(data: bytes, max_pages: int, max_chars: int) -> Parsed:
    return Parsed(text=_tidy(decode_text(data)), kind="text")


def _markdown(data: bytes, max_pages: int, max_chars: int) -> Parsed:
    text = _tidy(decode_text(data))
    sections, path = [], []
    for match in _MD_HEADING.finditer(text):
        path = _heading_path(path, len(match.group(1)), match.group(2).strip())
        sections.append((match.start(), SECTION_JOIN.join(h for h in path if h)))
    title = next((m.group(2).strip() for m in _MD_HEADING.finditer(text) if m.group(1) == "#"), "")
    return Parsed(text=text, kind="markdown", title=title, sections=sections)


def _tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
