"""The lexical index of chunks, in the database's own full-text search.

SQLite: an FTS5 table over the chunk texts with the trigram tokenizer (it matches inside
words and works for Korean, which has no spaces between some words), kept in step by
triggers. PostgreSQL: a stored, generated tsvector column with a GIN index (ranking a
stored vector is cheap; recomputing to_tsvector for every match is not).
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
# Not a model field: only PostgreSQL has it, and only documents.search reads it.
POSTGRES_UP = [
    "ALTER TABLE documents_chunk ADD COLUMN search tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED",
    "CREATE INDEX documents_chunk_search ON documents_chunk USING gin (search)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS documents_chunk_search",
    "ALTER TABLE documents_chunk DROP COLUMN IF EXISTS search",
]


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
