"""A tiny PDF writer for tests and benchmarks: real PDFs with a text layer, built by hand.

Each page is a list of paragraphs, set in Helvetica and wrapped; pypdf reads the text
back. Only Latin-1 text (the standard fonts' encoding).
"""

import textwrap


def build_pdf(pages: list[list[str]], *, title: str = "", width: int = 90) -> bytes:
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for page_id, paragraphs in zip(page_ids, pages, strict=True):
        stream = _content(paragraphs, width)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_id + 1} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    info_id = None
    if title:
        objects.append(b"<< /Title (" + _escape(title) + b") >>")
        info_id = len(objects)
    return _assemble(objects, info_id)


def operator_bomb(pages: int = 20, repeats: int = 200_000) -> bytes:
    """A small PDF that is slow to read: one Flate-compressed content stream of `repeats`
    text operators (`BT /F1 12 Tf (x) Tj ET`), shared by every page. 200,000 of them make
    a 15 KB file that costs pypdf about ten CPU seconds per page, each page read again;
    past about 280,000 pypdf's own budget of tokens per stream refuses the page."""
    import zlib

    stream = zlib.compress(b"BT /F1 12 Tf (x) Tj ET\n" * repeats, 9)
    content_id, font_id = 3 + pages, 4 + pages
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
    ]
    objects += [
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
        f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
    ] * pages
    objects.append(
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
    )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _assemble(objects, None)


def _content(paragraphs: list[str], width: int) -> bytes:
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += textwrap.wrap(paragraph, width) or [""]
        lines.append("")
    body = b"BT /F1 10 Tf 12 TL 56 750 Td\n"
    for line in lines[:60]:
        body += b"(" + _escape(line) + b") Tj T*\n"
    return body + b"ET"


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _assemble(objects: list[bytes], info_id: int | None) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    info = b" /Info %d 0 R" % info_id if info_id else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info,
        xref,
    )
    return bytes(out)


def encrypted(pdf: bytes, password: str = "secret") -> bytes:  # noqa: S107 (a test fixture)
    """The same PDF locked with a user password (pypdf's writer)."""
    import io

    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
