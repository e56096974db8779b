"""Chunks stay within their size, overlap, and remember page, section and offsets."""

import itertools

from documents.chunking import chunk_text

SENTENCE = "The present perfect connects a past action to now. "


def test_every_chunk_is_its_slice_of_the_text_and_within_size():
    text = "\n\n".join(SENTENCE * 5 for _ in range(12))
    spans = chunk_text(text, size=300, overlap=60)
    assert len(spans) > 5
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert len(span.text) <= 300
        assert span.text == span.text.strip()


def test_neighbours_overlap_and_together_cover_the_text():
    text = SENTENCE * 40
    spans = chunk_text(text, size=200, overlap=60)
    for before, after in itertools.pairwise(spans):
        assert after.start < before.end  # shared text
        assert after.start > before.start
    assert spans[0].start == 0 and spans[-1].end == len(text.rstrip())


def test_a_long_word_is_cut_hard():
    spans = chunk_text("x" * 1000, size=300, overlap=0)
    assert [len(s.text) for s in spans] == [300, 300, 300, 100]


def test_chunks_never_span_two_pages_and_know_their_page():
    page_one, page_two = SENTENCE * 3, SENTENCE * 3
    text = page_one + "\n\n" + page_two
    spans = chunk_text(text, size=1000, overlap=0, page_starts=[0, len(page_one) + 2])
    assert [s.page for s in spans] == [1, 2]
    assert spans[1].start == len(page_one) + 2


def test_chunks_carry_the_heading_path_of_their_section():
    text = "# Tenses\n\nIntro text.\n\n## Past\n\n" + SENTENCE * 10
    sections = [(0, "Tenses"), (text.index("## Past"), "Tenses \u203a Past")]
    spans = chunk_text(text, size=200, overlap=20, sections=sections)
    assert spans[0].section == "Tenses"
    assert {s.section for s in spans[1:]} == {"Tenses \u203a Past"}
    assert all(s.page is None for s in spans)
