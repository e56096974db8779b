"""Cutting extracted text into overlapping chunks that remember where they came from.

A pure core. The text is first cut at page and section boundaries (a chunk never spans
two pages or two sections, so its citation is exact), then each segment is split by
LangChain's RecursiveCharacterTextSplitter (paragraphs, then lines, sentences, words,
characters, merged back up to `size` characters with about `overlap` characters repeated
between neighbours). Every chunk keeps its character
offsets into the text.
"""

import bisect
import itertools
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

SEPARATORS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", "")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    page: int | None
    section: str


def chunk_text(
    text: str,
    *,
    size: int,
    overlap: int,
    page_starts: list[int] | None = None,
    sections: list[tuple[int, str]] | None = None,
) -> list[Span]:
    page_starts = page_starts or []
    sections = sections or []
    spans: list[Span] = []
    for start, end in _segments(len(text), page_starts, [o for o, _ in sections]):
        page = bisect.bisect_right(page_starts, start) or None if page_starts else None
        section = _section_at(sections, start)
        for piece_start, piece_end in _pieces(text, start, end, size, overlap):
            spans.append(Span(text[piece_start:piece_end], piece_start, piece_end, page, section))
    return spans


def _segments(length: int, *boundaries: list[int]) -> list[tuple[int, int]]:
    cuts = sorted({0, length, *(b for group in boundaries for b in group if 0 < b < length)})
    return list(itertools.pairwise(cuts))


def _section_at(sections: list[tuple[int, str]], offset: int) -> str:
    index = bisect.bisect_right([o for o, _ in sections], offset) - 1
    return sections[index][1][:300] if index >= 0 else ""


def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    # Separators stay with the piece before them, so a chunk ends with its sentence's
    # full stop; add_start_index gives each chunk's offset into its segment.
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        separators=list(SEPARATORS),
        keep_separator="end",
        strip_whitespace=True,
        add_start_index=True,
    )


def _pieces(text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Chunks of text[start:end] by LangChain's recursive splitter, as offsets into text."""
    pieces = []
    for document in _splitter(size, overlap).create_documents([text[start:end]]):
        piece_start = start + document.metadata["start_index"]
        pieces.append((piece_start, piece_start + len(document.page_content)))
    return [p for p in pieces if p[1] > p[0]]
