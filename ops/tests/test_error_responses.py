"""What a client or a person meets when a request goes wrong: the API's one JSON error
shape under /api/ (no traceback logged for a client's mistake), the product's own
403/404/500 pages elsewhere."""

import json
import logging

import pytest
from django.test import Client, RequestFactory

from conftest import PASSWORD
from core.error_views import server_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations/"


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"]
    return body


@pytest.mark.parametrize(
    "path", ["/api/v1/nope/", "/api/v1/conversations/abc/", "/api/v1/me/", "/api/elsewhere"]
)
def test_unknown_api_paths_are_404_in_the_error_shape(api, path):
    assert_error_shape(api.get(path), 404)


def test_a_body_over_the_upload_limit_is_413_and_logs_no_traceback(api, caplog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"text": "x" * 2000})

    with caplog.at_level(logging.WARNING):
        response = api.post(URL, data=body, content_type="application/json")

    assert_error_shape(response, 413)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_json_nested_too_deeply_is_a_400(api, caplog):
    body = "[" * 5000 + "]" * 5000

    for path in ("/api/v1/auth/token/", URL):
        with caplog.at_level(logging.WARNING):
            response = api.post(path, data=body, content_type="application/json")
        assert "nested too deeply" in assert_error_shape(response, 400)["detail"]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("query", ["page_size=abc", "page_size=0", "page=abc", "page=0"])
def test_malformed_paging_is_a_400(api, query):
    body = assert_error_shape(api.get(f"{URL}?{query}"), 400)

    assert query.split("=")[0] in body["detail"]


def test_a_page_past_the_last_is_a_404(api):
    assert_error_shape(api.get(f"{URL}?page=99"), 404)


def test_form_encoded_bodies_are_refused_with_415(api):
    response = api.post(URL, data="text=hello", content_type="application/x-www-form-urlencoded")

    assert_error_shape(response, 415)


@pytest.mark.parametrize(
    "body",
    [{"text": 0}, {"text": "hi", "keep_raw_messages": 0}, {"text": "hi", "title": 5}],
)
def test_values_of_the_wrong_json_type_are_refused(api, body):
    assert_error_shape(api.post(URL, body, format="json"), 400)


def test_an_empty_patch_changes_nothing(api):
    conversation = api.post(URL, {"text": "Hello", "title": "Kept"}, format="json").json()

    response = api.patch(f"{URL}{conversation['id']}/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == "Kept"


def test_server_errors_under_api_are_json_and_pages_are_styled():
    factory = RequestFactory()

    api = server_error(factory.get("/api/v1/me"))
    page = server_error(factory.get("/"))

    assert api.status_code == page.status_code == 500
    assert json.loads(api.content)["error"] == "Server error"
    assert b"Something went wrong on our side" in page.content
    assert b'href="/"' in page.content and b"app.css" in page.content


# --- Pages ------------------------------------------------------------------------------


def test_a_missing_page_is_styled_with_a_way_home(alice):
    client = Client()
    client.login(username="alice", password=PASSWORD)

    response = client.get("/conversations/424242/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "This page does not exist" in body
    assert 'href="/"' in body and "Back to your conversations" in body
    assert "app.css" in body


def test_a_refused_form_gets_the_styled_403_page(alice):
    client = Client(enforce_csrf_checks=True)
    client.login(username="alice", password=PASSWORD)

    response = client.post("/accounts/profile/", {"level": "C1"})

    assert response.status_code == 403
    body = response.content.decode()
    assert "You cannot open this page" in body and "Back to your conversations" in body
