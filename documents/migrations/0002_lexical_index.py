"""The lexical index of chunks, in the database's own full-text search.

SQLite: an FTS5 table over the chunk texts with the trigram tokenizer (it matches inside
words and works for Korean, which has no spaces between some words), kept in step by
triggers. PostgreSQL: a GIN index on the same expression the search uses.
"""

from django.db import migrations

SQLITE_UP = [
    "CREATE VIRTUAL TABLE documents_chunk_fts USING fts5("
    "text, content='documents_chunk', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER documents_chunk_fts_insert AFTER INSERT ON documents_chunk BEGIN "
    "INSERT INTO documents_chunk_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER documents_chunk_fts_delete AFTER DELETE ON documents_chunk BEGIN "
    "INSERT INTO documents_chunk_fts(documents_chunk_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER documents_chunk_fts_update AFTER UPDATE OF text ON documents_chunk BEGIN "
    "INSERT INTO documents_chunk_fts(documents_chunk_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO documents_chunk_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS documents_chunk_fts_update",
    "DROP TRIGGER IF EXISTS documents_chunk_fts_delete",
    "DROP TRIGGER IF EXISTS documents_chunk_fts_insert",
    "DROP TABLE IF EXISTS documents_chunk_fts",
]
# The expression Django's SearchVector("text", config="english") compiles to, so the
# planner uses the index for the search's WHERE clause.
POSTGRES_UP = [
    "CREATE INDEX documents_chunk_search ON documents_chunk USING gin "
    "(to_tsvector('english'::regconfig, COALESCE(text, '')))",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS documents_chunk_search"]


def _run(statements: dict):
    def run(apps, schema_editor) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
