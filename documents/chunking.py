"""Cutting extracted text into overlapping chunks that remember where they came from.

A pure core. The text is first cut at page and section boundaries (a chunk never spans
two pages or two sections, so its citation is exact), then each segment is split the way
LangChain's RecursiveCharacterTextSplitter splits (paragraphs, then lines, sentences,
words, characters) and the pieces are merged back up to `size` characters with about
`overlap` characters repeated between neighbours. Every chunk keeps its character
offsets into the text.
"""

import bisect
import itertools
from dataclasses import dataclass

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
        for piece_start, piece_end in merge(split(text, start, end, size), text, size, overlap):
            spans.append(Span(text[piece_start:piece_end], piece_start, piece_end, page, section))
    return spans


def _segments(length: int, *boundaries: list[int]) -> list[tuple[int, int]]:
    cuts = sorted({0, length, *(b for group in boundaries for b in group if 0 < b < length)})
    return list(itertools.pairwise(cuts))


def _section_at(sections: list[tuple[int, str]], offset: int) -> str:
    index = bisect.bisect_right([o for o, _ in sections], offset) - 1
    return sections[index][1][:300] if index >= 0 else ""


def split(text: str, start: int, end: int, size: int, seps=SEPARATORS) -> list[tuple[int, int]]:
    """Pieces of text[start:end], each at most `size` long, cut at the coarsest separator
    that occurs (the separator stays with the piece before it)."""
    if end - start <= size:
        return [(start, end)]
    for index, sep in enumerate(seps):
        if sep == "":
            return [(i, min(i + size, end)) for i in range(start, end, size)]
        if text.find(sep, start, end) == -1:
            continue
        pieces, cursor = [], start
        while cursor < end:
            found = text.find(sep, cursor, end)
            stop = end if found == -1 else found + len(sep)
            if stop - cursor > size:
                pieces += split(text, cursor, stop, size, seps[index + 1 :])
            else:
                pieces.append((cursor, stop))
            cursor = stop
        return pieces
    return [(start, end)]


def merge(
    pieces: list[tuple[int, int]], text: str, size: int, overlap: int
) -> list[tuple[int, int]]:
    """Consecutive pieces joined into chunks of at most `size`; each new chunk starts with
    the last pieces of the one before that fit in `overlap`. Offsets exclude the
    whitespace at either end; blank chunks are dropped."""
    chunks: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    for piece in pieces:
        if current and piece[1] - current[0][0] > size:
            chunks.append((current[0][0], current[-1][1]))
            while current and (
                current[-1][1] - current[0][0] > overlap or piece[1] - current[0][0] > size
            ):
                current.pop(0)
        current.append(piece)
    if current:
        chunks.append((current[0][0], current[-1][1]))
    return [c for c in (_stripped(text, s, e) for s, e in chunks) if c[1] > c[0]]


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
