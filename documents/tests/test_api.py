"""/api/v1/documents/ and the pages: limits, readable errors by content, ownership (404)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Chunk, Document
from documents.testing.pdf import build_pdf, encrypted
from documents.tests.conftest import GRAMMAR, ingested, sample_pdf
from ops.testing import drain_queue

pytestmark = pytest.mark.django_db(transaction=True)


def post_file(client, name: str, data: bytes):
    return client.post(
        "/api/v1/documents/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )


def test_upload_answers_201_with_the_queued_ingestion_then_it_is_ready(api):
    response = post_file(api, "grammar.md", GRAMMAR.encode())
    assert response.status_code == 201
    body = response.json()
    assert body["content_type"] == "markdown"
    assert body["ingestion"]["status"] == "queued"
    drain_queue()
    body = api.get(f"/api/v1/documents/{body['id']}/").json()
    assert body["ingestion"]["status"] == "done"
    assert body["ingestion"]["label"].startswith("Ready:")
    assert body["title"] == "Present perfect"


def test_the_same_content_again_answers_200_with_the_same_document(api):
    first = post_file(api, "a.md", GRAMMAR.encode()).json()
    again = post_file(api, "b.md", GRAMMAR.encode())
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert Document.objects.count() == 1


def test_a_pdf_is_accepted_by_content(api):
    response = post_file(api, "upload.bin", sample_pdf())
    assert response.status_code == 201
    assert (response.json()["content_type"], response.json()["pages"]) == ("pdf", 2)


def test_too_large_is_413_with_the_limit(api, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    response = post_file(api, "big.txt", b"a" * 2048)
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["error"]
    assert response.json()["detail"]["max_bytes"] == 1024
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "code", "fragment"),
    [
        ("photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 415, "PNG image"),
        ("notes.md", b"PK\x03\x04" + b"\x00" * 64, 415, "ZIP archive"),
        ("notes.txt", b"abc\x00\x01\x02def" * 10, 415, "binary"),
        ("empty.txt", b"", 400, "empty"),
        ("broken.pdf", build_pdf([["Some text"]])[:120], 400, "damaged"),
        ("locked.pdf", encrypted(build_pdf([["Secret notes"]])), 400, "password-protected"),
    ],
)
def test_bad_files_get_a_readable_error_and_store_nothing(api, name, data, code, fragment):
    response = post_file(api, name, data)
    assert response.status_code == code
    assert fragment in response.json()["error"]
    assert not Document.objects.exists()


def test_a_missing_file_is_400(api):
    response = api.post("/api/v1/documents/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == "Choose a file to upload."


def test_list_shows_only_my_documents_without_n_plus_1(
    api, alice, bob, django_assert_max_num_queries
):
    for n in range(3):
        ingested(alice, f"# Notes {n}\n\nSome notes number {n}.", f"n{n}.md")
    ingested(bob, "# Bob's\n\nBob's notes.", "bob.md")
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/documents/").json()
    assert body["count"] == 3
    assert {d["title"] for d in body["results"]} == {"Notes 0", "Notes 1", "Notes 2"}


def test_delete_removes_the_document_and_its_chunks(api, alice):
    document = ingested(alice)
    assert api.delete(f"/api/v1/documents/{document.pk}/").status_code == 204
    assert not Document.objects.exists() and not Chunk.objects.exists()


def test_cancel_and_retry_through_the_api(api, alice):
    body = post_file(api, "g.md", GRAMMAR.encode()).json()
    cancelled = api.post(f"/api/v1/documents/{body['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["ingestion"]["status"] == "cancelled"
    assert api.post(f"/api/v1/documents/{body['id']}/cancel/").status_code == 409
    retried = api.post(f"/api/v1/documents/{body['id']}/retry/")
    assert retried.status_code == 200 and retried.json()["ingestion"]["status"] == "queued"
    drain_queue()
    assert api.get(f"/api/v1/documents/{body['id']}/").json()["ingestion"]["status"] == "done"
    assert api.post(f"/api/v1/documents/{body['id']}/retry/").status_code == 409


# --- Ownership --------------------------------------------------------------------------


def test_another_learner_gets_404_on_every_endpoint_and_page(alice, bob, bob_api, client):
    document = ingested(alice)
    url = f"/api/v1/documents/{document.pk}/"
    assert bob_api.get(url).status_code == 404
    assert bob_api.delete(url).status_code == 404
    assert bob_api.post(url + "cancel/").status_code == 404
    assert bob_api.post(url + "retry/").status_code == 404
    assert bob_api.get("/api/v1/documents/").json()["count"] == 0
    client.force_login(bob)
    assert client.get(f"/documents/{document.pk}/").status_code == 404
    assert GRAMMAR.splitlines()[2] not in client.get("/documents/").content.decode()
    assert Document.objects.filter(pk=document.pk).exists()


def test_another_learners_document_cannot_be_attached(alice, bob, bob_api):
    document = ingested(alice)
    response = bob_api.post(
        "/api/v1/conversations/",
        {"text": "Hi", "mode": "rag", "document_ids": [document.pk]},
        format="json",
    )
    assert response.status_code == 404
    own = bob_api.post("/api/v1/conversations/", {"text": "Hi", "mode": "rag"}, format="json")
    conversation_id = own.json()["id"]
    attach = bob_api.put(
        f"/api/v1/conversations/{conversation_id}/documents/",
        {"document_ids": [document.pk]},
        format="json",
    )
    assert attach.status_code == 404


def test_another_learners_document_is_never_searched(alice, bob):
    from documents import selectors

    document = ingested(alice)
    assert selectors.chunks_search_for(
        alice, document_ids=[document.pk], query="present perfect already yet"
    )
    assert (
        selectors.chunks_search_for(
            bob, document_ids=[document.pk], query="present perfect already yet"
        )
        == []
    )


def test_anonymous_pages_redirect_and_api_refuses(client):
    assert client.get("/documents/").status_code == 302
    assert client.get("/api/v1/documents/").status_code in (401, 403)


def test_the_pages_show_the_upload_form_progress_and_passages(alice, client):
    document = ingested(alice, sample_pdf(), "verbs.pdf")
    client.force_login(alice)
    html = client.get("/documents/").content.decode()
    assert 'id="upload-form"' in html and "<progress" in html
    assert "js/documents.js" in html and "<script>" not in html.replace(
        'type="application/json"', ""
    )
    detail = client.get(f"/documents/{document.pk}/").content.decode()
    assert 'id="chunk-0"' in detail and "page 2" in detail and "turn it off" in detail
