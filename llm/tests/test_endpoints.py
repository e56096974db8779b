"""Staff connect an OpenAI-compatible endpoint in the admin: its key is never stored or
shown in plain text, the connection test tries streaming and structured output for real,
and task profiles moved onto it send their calls there.

The fast tests talk HTTP to the OpenAI stub (a real socket server speaking the streaming
protocol); the last ones to llama.cpp's own server (marked llama_server)."""

import socket
import uuid

import pytest
from django.db import connection

import llm
from llm import keys
from llm.cache import cache_namespace_reset
from llm.endpoints import connection_test
from llm.models import Endpoint, LLMCall, TaskProfile
from llm.providers import openai as openai_provider
from llm.providers.local import model_path

SECRET = "sk-live-Zq81vXWmT0pPlainTextKey9a7c"
HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def endpoints(settings, db):
    settings.LLM_PROVIDER = "local"  # no deployment-wide endpoint: profiles choose theirs
    settings.LLM_RETRY_BASE_SECONDS = 0.001
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    openai_provider.endpoint_cache_clear()
    cache_namespace_reset(uuid.uuid4().hex[:12])


@pytest.fixture
def stub(endpoints, openai_stub_server):
    openai_stub_server.reset()
    return openai_stub_server


def _add(client, base_url: str, **fields) -> Endpoint:
    data = {"name": "Stub", "base_url": base_url, "model": "stub-model", **fields}
    response = client.post("/admin/llm/endpoint/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Endpoint.objects.get(name=data["name"])


def _raw_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM llm_endpoint")
        return cursor.fetchall()


# -- the key ------------------------------------------------------------------------------


def test_a_typed_key_is_stored_encrypted_and_never_shown(client, carol, stub):
    client.force_login(carol)

    endpoint = _add(client, stub.base_url, api_key=SECRET)

    rows = _raw_rows()
    assert len(rows) == 1
    assert not any(SECRET in str(value) for value in rows[0])  # no column holds it
    assert not any(SECRET[-12:] in str(value) for value in rows[0])
    assert endpoint.api_key() == SECRET
    for page in ("/admin/llm/endpoint/", f"/admin/llm/endpoint/{endpoint.pk}/change/"):
        html = client.get(page).content.decode()
        assert SECRET not in html
        assert "stored encrypted, …9a7c" in html


def test_an_empty_key_field_keeps_the_stored_key_and_the_box_removes_it(client, carol, stub):
    client.force_login(carol)
    endpoint = _add(client, stub.base_url, api_key=SECRET)
    change = f"/admin/llm/endpoint/{endpoint.pk}/change/"
    form = {"name": "Stub", "base_url": stub.base_url, "model": "stub-model"}

    assert client.post(change, {**form, "model": "other"}).status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.model, endpoint.api_key()) == ("other", SECRET)

    assert client.post(change, {**form, "clear_api_key": "on"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.api_key_encrypted == "" and endpoint.api_key() == ""


def test_a_key_from_the_environment_is_read_there_and_not_stored(client, carol, stub, monkeypatch):
    monkeypatch.setenv("COACH_TEST_ENDPOINT_KEY", SECRET)
    client.force_login(carol)

    endpoint = _add(client, stub.base_url, api_key_env="COACH_TEST_ENDPOINT_KEY")

    assert endpoint.api_key_encrypted == ""
    assert endpoint.api_key() == SECRET
    assert endpoint.key_summary() == "from $COACH_TEST_ENDPOINT_KEY (set)"
    assert not any(SECRET in str(value) for value in _raw_rows()[0])


def test_the_form_refuses_a_key_and_a_variable_together_and_bad_addresses(client, carol, stub):
    client.force_login(carol)
    both = {"name": "X", "base_url": stub.base_url, "api_key": SECRET, "api_key_env": "KEY"}
    response = client.post("/admin/llm/endpoint/add/", both)
    assert response.status_code == 200
    assert "not both" in response.content.decode()

    bad = {"name": "X", "base_url": "ftp://example.com", "api_key_env": "1BAD"}
    errors = client.post("/admin/llm/endpoint/add/", bad).context["adminform"].form.errors
    assert set(errors) == {"base_url", "api_key_env"}
    # A compose service name has no dot in its host, and is a fine address.
    ok = {"name": "Ollama", "base_url": "http://ollama:11434/v1"}
    assert client.post("/admin/llm/endpoint/add/", ok).status_code == 302
    assert not Endpoint.objects.filter(name="X").exists()


def test_a_changed_secret_makes_the_stored_key_unreadable_and_says_so(stub, settings):
    endpoint = Endpoint(name="Stub", base_url=stub.base_url, model="stub-model")
    endpoint.set_api_key(SECRET)
    endpoint.save()
    settings.LLM_ENDPOINT_KEY_SECRET = "another secret than the one it was saved with"

    with pytest.raises(keys.KeyUnreadable):
        endpoint.api_key()
    assert "unreadable" in endpoint.key_summary()
    report = connection_test(endpoint)
    assert not report.ok
    assert "enter the key again" in report.text()
    assert stub.request_count == 0


# -- the connection test ------------------------------------------------------------------


def test_the_connection_test_streams_and_gets_structured_output(stub):
    stub.configure(api_key=SECRET)
    stub.queue("Hello there, nice to meet you today!")
    endpoint = Endpoint(name="Stub", base_url=stub.base_url, model="stub-model")
    endpoint.set_api_key(SECRET)
    endpoint.save()

    report = connection_test(endpoint)

    assert report.ok, report.text()
    lines = report.text().splitlines()
    assert lines[0] == "✓ models: stub-model is served"
    assert lines[1].startswith("✓ streaming: first text after ")
    assert "in 7 pieces" in lines[1] and "Hello there, nice to meet you today!" in lines[1]
    assert lines[2].startswith("✓ structured output: valid JSON by json_schema")
    streamed, structured = stub.requests
    assert streamed["stream"] is True and streamed["model"] == "stub-model"
    assert structured["response_format"]["type"] == "json_schema"
    endpoint.refresh_from_db()
    assert endpoint.last_check_ok is True and endpoint.last_check_report == report.text()


def test_a_wrong_key_fails_clearly(stub):
    stub.configure(api_key="the-right-key")
    endpoint = Endpoint.objects.create(name="Stub", base_url=stub.base_url, model="stub-model")
    endpoint.set_api_key("a-wrong-key")
    endpoint.save()

    report = connection_test(endpoint)

    assert not report.ok
    assert "✗ streaming: the endpoint refused the key (HTTP 401): check the key" in report.text()
    assert "✗ structured output: the endpoint refused the key (HTTP 401)" in report.text()


def test_an_endpoint_without_json_schema_is_reported_with_the_method_that_worked(stub):
    stub.configure(reject_json_schema=True, json_schema_status=500)
    endpoint = Endpoint.objects.create(name="Stub", base_url=stub.base_url, model="stub-model")

    report = connection_test(endpoint)

    assert report.ok, report.text()
    assert "✓ structured output: valid JSON by function_calling" in report.text()


def test_a_model_the_endpoint_does_not_serve_and_an_unreachable_one(stub, endpoints):
    endpoint = Endpoint.objects.create(name="Stub", base_url=stub.base_url, model="gpt-9")
    report = connection_test(endpoint)
    assert "✗ models: gpt-9 is not among the 1 models listed (stub-model)" in report.text()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    gone = Endpoint.objects.create(name="Gone", base_url=f"http://127.0.0.1:{dead}/v1")
    report = connection_test(gone)
    assert not report.ok
    assert report.text().startswith("✗ models: cannot reach the endpoint")


def test_staff_test_a_connection_from_the_change_page_and_the_list(client, carol, alice, stub):
    endpoint = Endpoint.objects.create(name="Stub", base_url=stub.base_url, model="stub-model")
    change = f"/admin/llm/endpoint/{endpoint.pk}/change/"
    client.force_login(carol)
    assert "Test connection" in client.get(change).content.decode()

    response = client.post(f"/admin/llm/endpoint/{endpoint.pk}/test/", follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == change
    assert "Stub works" in page and "✓ streaming" in page and "✓ structured output" in page
    response = client.post(
        "/admin/llm/endpoint/",
        {"action": "test_connection", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    assert "Stub works" in response.content.decode()
    assert stub.request_count == 4

    client.force_login(alice)  # a learner cannot make the server call anything
    assert client.post(f"/admin/llm/endpoint/{endpoint.pk}/test/").status_code == 302
    assert stub.request_count == 4


# -- task profiles on the endpoint --------------------------------------------------------


def test_profiles_moved_onto_the_endpoint_send_their_calls_there(client, carol, alice, stub):
    stub.configure(api_key=SECRET)
    stub.queue("Hi from the endpoint!")
    chat = TaskProfile.objects.get(name="chat")
    client.force_login(carol)

    endpoint = _add(client, stub.base_url, api_key=SECRET, profiles=[chat.pk])

    chat.refresh_from_db()
    assert chat.endpoint == endpoint
    assert llm.model_info("chat").provider == "openai"
    reply = llm.stream("chat", HELLO, user=alice)
    assert "".join(reply) == "Hi from the endpoint!"
    call = LLMCall.objects.get()
    assert (call.provider, call.model, call.status) == ("openai", "stub-model", "ok")
    assert stub.requests[0]["model"] == "stub-model"
    assert llm.model_info("summary").provider == "local"  # the others stay where they were

    # Taken out on the endpoint's page, the profile goes back to the deployment default.
    change = f"/admin/llm/endpoint/{endpoint.pk}/change/"
    form = {"name": "Stub", "base_url": stub.base_url, "model": "stub-model"}
    assert client.post(change, form).status_code == 302
    chat.refresh_from_db()
    assert chat.endpoint is None
    assert llm.model_info("chat").provider == "local"


def test_the_profile_page_and_list_choose_an_endpoint(client, carol, stub):
    endpoint = Endpoint.objects.create(name="Stub", base_url=stub.base_url, model="stub-model")
    summary = TaskProfile.objects.get(name="summary")
    client.force_login(carol)
    page = client.get(f"/admin/llm/taskprofile/{summary.pk}/change/").content.decode()
    assert 'name="endpoint"' in page

    TaskProfile.objects.filter(pk=summary.pk).update(endpoint=endpoint)
    assert llm.model_info("summary") == llm.gateway.ModelInfo("openai", "stub-model")
    listing = client.get("/admin/llm/endpoint/").content.decode()
    assert "summary" in listing


def test_a_stored_key_the_secret_cannot_read_fails_the_call_as_misconfigured(stub, alice, settings):
    endpoint = Endpoint(name="Stub", base_url=stub.base_url, model="stub-model")
    endpoint.set_api_key(SECRET)
    endpoint.save()
    TaskProfile.objects.filter(name="chat").update(endpoint=endpoint)
    settings.LLM_ENDPOINT_KEY_SECRET = "rotated"

    with pytest.raises(llm.errors.ModelMisconfigured):
        "".join(llm.stream("chat", HELLO, user=alice))
    assert stub.request_count == 0


# -- llama.cpp's own server ----------------------------------------------------------------


@pytest.mark.llama_server
def test_the_connection_test_passes_against_llama_cpps_server(llama_server, endpoints):
    endpoint = Endpoint.objects.create(name="llama.cpp", base_url=llama_server.base_url)

    report = connection_test(endpoint)

    assert report.ok, report.text()
    lines = report.text().splitlines()
    assert lines[0] == f"✓ models: serves one model, {model_path()}: used"
    assert lines[1].startswith("✓ streaming: first text after ") and "pieces" in lines[1]
    # The server answers json_schema with a 500; function calling works there.
    assert lines[2].startswith("✓ structured output: valid JSON by function_calling")


@pytest.mark.llama_server
def test_a_profile_on_llama_cpps_server_answers(llama_server, endpoints, alice):
    endpoint = Endpoint.objects.create(name="llama.cpp", base_url=llama_server.base_url)
    TaskProfile.objects.filter(name="chat").update(
        endpoint=endpoint, max_tokens=12, temperature=0, timeout_seconds=30
    )

    reply = llm.stream("chat", HELLO, user=alice)
    text = "".join(reply)

    assert text.strip()
    call = LLMCall.objects.get()
    assert (call.provider, call.model, call.status) == ("openai", str(model_path()), "ok")
