"""PostgreSQL: keep each chunk's tsvector in its row, and move the vector out instead.

A chunk row (text, a 1 KB float32 vector, a ~1.1 KB tsvector) is over PostgreSQL's 2 KB
TOAST threshold, and the biggest compressible column goes out of line first: that was
the tsvector, so every `@@` test and every ts_rank read three extra pages. Stored MAIN
it stays in the row; the vector (EXTERNAL: random floats do not compress) is the one moved
out, and only the once-per-document vector load reads it. Over 50,000 chunks the lexical
query's p95 went from 13.4 to 6.8 ms (bench/rag.py, docs/retrieval.md).

Existing rows are rewritten once so they get the new layout (regenerating the tsvector
from the unchanged text). SQLite's FTS5 index lives in its own table and is untouched.
"""

from django.db import migrations

TO_INLINE = [
    "ALTER TABLE documents_chunk ALTER COLUMN search SET STORAGE MAIN, "
    "ALTER COLUMN vector SET STORAGE EXTERNAL",
    "UPDATE documents_chunk SET text = text",
]
TO_EXTENDED = [
    "ALTER TABLE documents_chunk ALTER COLUMN search SET STORAGE EXTENDED, "
    "ALTER COLUMN vector SET STORAGE EXTENDED",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("documents", "0003_ingestion")]

    operations = [migrations.RunPython(run(TO_INLINE), run(TO_EXTENDED))]
