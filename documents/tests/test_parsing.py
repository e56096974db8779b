"""Parsing uploads: the type comes from the content, and every bad file says why."""

import pytest

from documents import parsing
from documents.testing.pdf import build_pdf, encrypted

PAGES = [["Grammar sheet, page one.", "The present perfect links past and present."], ["Page two."]]


def test_pdf_is_detected_by_its_bytes_whatever_its_name():
    assert parsing.detect_type(build_pdf(PAGES), "notes.txt") == "pdf"


def test_pdf_text_keeps_its_pages_and_title():
    parsed = parsing.parse(build_pdf(PAGES, title="Sheet"), "pdf", max_pages=10)
    assert parsed.title == "Sheet"
    assert parsed.page_count == 2
    second = parsed.text[parsed.page_starts[1] :]
    assert second.startswith("Page two.")
    assert "present perfect links" in parsed.text[: parsed.page_starts[1]]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x89PNG\r\n\x1a\n....", "PNG image"),
        (b"PK\x03\x04rest-of-a-docx", "ZIP archive"),
        (b"text\x00with\x00nulls\x01\x02", "binary"),
        ("caf\xe9 au lait".encode("latin-1"), "not UTF-8"),
    ],
)
def test_binary_or_undecodable_content_is_refused_even_named_txt(data, fragment):
    with pytest.raises(parsing.UnsupportedType) as error:
        parsing.detect_type(data, "notes.txt")
    assert error.value.status_code == 415
    assert fragment in error.value.user_message


def test_empty_file_is_refused():
    with pytest.raises(parsing.ParseError, match="empty"):
        parsing.detect_type(b"  \n", "empty.txt")


def test_broken_pdf_is_a_readable_error():
    with pytest.raises(parsing.ParseError, match="damaged"):
        parsing.check(build_pdf(PAGES)[:150], "pdf", max_pages=10)


def test_encrypted_pdf_is_a_readable_error():
    with pytest.raises(parsing.ParseError, match="password-protected"):
        parsing.check(encrypted(build_pdf(PAGES)), "pdf", max_pages=10)


def test_pdf_without_text_layer_is_a_readable_error():
    with pytest.raises(parsing.ParseError, match="no text layer"):
        parsing.parse(build_pdf([[""], [""]]), "pdf", max_pages=10)


def test_pdf_over_the_page_limit_is_refused():
    with pytest.raises(parsing.ParseError, match="3 pages; the limit is 2"):
        parsing.check(build_pdf([["a"], ["b"], ["c"]]), "pdf", max_pages=2)


def test_html_keeps_the_main_text_and_its_headings_not_the_navigation():
    page = (
        "<!doctype html><html><head><title>Phrasal verbs | Site</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About us</a></nav><article>"
        "<h1>Phrasal verbs</h1><p>" + "A phrasal verb is a verb with a particle. " * 6 + "</p>"
        "<h2>Separable verbs</h2><p>"
        + "You can say turn it off or turn off the light. " * 6
        + "</p></article><footer>Copyright 2026 Example Ltd</footer></body></html>"
    ).encode()
    assert parsing.detect_type(page, "page.bin") == "html"
    parsed = parsing.parse(page, "html", max_pages=10)
    assert "turn it off" in parsed.text
    assert "About us" not in parsed.text and "Copyright" not in parsed.text
    assert [heading for _, heading in parsed.sections] == [
        "Phrasal verbs",
        "Phrasal verbs \u203a Separable verbs",
    ]
    offset = parsed.sections[1][0]
    assert parsed.text[offset:].startswith("Separable verbs")


def test_markdown_headings_become_sections():
    text = b"# Tenses\n\nIntro.\n\n## Present perfect\n\nhave + past participle\n\n# Modals\n\nmust"
    assert parsing.detect_type(text, "sheet.txt") == "markdown"
    parsed = parsing.parse(text, "markdown", max_pages=10)
    assert parsed.title == "Tenses"
    assert [h for _, h in parsed.sections] == ["Tenses", "Tenses \u203a Present perfect", "Modals"]


def test_plain_utf8_text_with_korean_is_text():
    data = "학습 자료입니다. Plain notes.\r\nSecond line.".encode()
    assert parsing.detect_type(data, "notes.txt") == "text"
    assert (
        parsing.parse(data, "text", max_pages=1).text
        == "학습 자료입니다. Plain notes.\nSecond line."
    )
