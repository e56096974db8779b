"""The database side of retrieval: lexical search stays within the documents asked for,
ranks at most RETRIEVAL_LEXICAL_MAX_MATCHES matches, and the vector cache follows
re-indexing."""

import pytest
from django.conf import settings

from documents import search
from documents.tests.conftest import ingested

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = "\n\n".join(f"Note {n}: the subjunctive mood appears in formal requests." for n in range(8))


def test_lexical_search_only_looks_in_the_documents_given(alice, bob):
    mine = ingested(alice, NOTES, "mine.txt")
    theirs = ingested(bob, NOTES + "\n\nBob's copy.", "theirs.txt")
    found = search.lexical_search("subjunctive requests", [mine.pk], 50)
    assert found
    assert set(found) <= set(mine.chunks.values_list("pk", flat=True))
    assert not set(found) & set(theirs.chunks.values_list("pk", flat=True))


def test_lexical_search_ranks_at_most_the_configured_number_of_matches(alice, settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP = 60, 0
    document = ingested(alice, NOTES, "notes.txt")
    assert document.chunks.count() >= 8
    assert len(search.lexical_search("subjunctive", [document.pk], 50)) >= 8
    settings.RETRIEVAL_LEXICAL_MAX_MATCHES = 3
    assert len(search.lexical_search("subjunctive", [document.pk], 50)) == 3


def test_the_vector_cache_reads_a_document_again_once_it_is_reindexed(alice):
    from documents import indexing

    document = ingested(alice, NOTES, "notes.txt")
    ids, _ = search.vectors_for(document)
    indexing.document_index(document=document)
    document.refresh_from_db()
    new_ids, matrix = search.vectors_for(document)
    assert set(new_ids).isdisjoint(ids)  # the new chunks, not the cached old ones
    assert matrix.shape == (len(new_ids), 256)


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"],
    reason="the trigram index is SQLite's; PostgreSQL's english configuration has no Korean",
)
def test_korean_text_is_found_by_the_trigram_index(alice):
    text = "현재완료는 과거의 경험을 현재와 연결합니다.\n\n과거시제는 끝난 일을 말합니다."
    document = ingested(alice, text, "korean.txt")
    found = search.lexical_search("현재완료", [document.pk], 10)
    assert found and "현재완료" in document.chunks.get(pk=found[0]).text


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="PostgreSQL's row layout (TOAST); SQLite keeps its index in its own table",
)
def test_postgres_keeps_the_tsvector_in_the_row_and_moves_the_vector_out():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute "
            "WHERE attrelid = 'documents_chunk'::regclass AND attname IN ('search', 'vector')"
        )
        assert dict(cursor.fetchall()) == {"search": "m", "vector": "e"}


def test_hits_carry_the_document_they_were_found_in(alice):
    first = ingested(alice, NOTES, "first.txt")
    second = ingested(alice, "The passive voice moves the object to the front.", "second.txt")
    hits = search.search(query="passive voice object", documents=[first, second], floor=0.0)
    assert hits
    assert all(hit.chunk.document.pk == hit.chunk.document_id for hit in hits)
    assert hits[0].chunk.document.title == second.title
