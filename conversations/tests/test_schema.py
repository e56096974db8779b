"""Every conversation endpoint is in the OpenAPI schema, which validates without warnings."""

from django.core.management import call_command


def test_the_conversation_api_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        "conversations.tests.schema_urls",
        "--file",
        str(target),
    )

    schema = target.read_text()
    for path in ("", "{id}/", "{id}/messages/", "{id}/regenerate/", "{id}/cancel/", "{id}/end/"):
        assert f"/api/v1/conversations/{path}:" in schema
    assert "Idempotency-Key" in schema
