"""Every teaching endpoint is in the OpenAPI schema, which validates without warnings."""

from django.core.management import call_command


def test_the_teaching_api_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        "teaching.tests.schema_urls",
        "--file",
        str(target),
    )
    schema = target.read_text()
    for path in (
        "collection/",
        "collection/{id}/",
        "conversations/{id}/lessons/",
        "modules/",
        "modules/{id}/",
        "modules/{id}/practice/",
        "teaching/runs/",
        "teaching/runs/{id}/",
        "reviews/due/",
        "me/export",
        "me/delete",
    ):
        assert f"/api/v1/{path}:" in schema, path
