"""Profiles seeded with an earlier shipped system prompt get the current one; prompts
edited by staff stay (llm.defaults.SHIPPED_BEFORE)."""

from django.db import migrations


def refresh(apps, schema_editor):
    from llm.defaults import refresh_shipped_prompts

    refresh_shipped_prompts(apps.get_model("llm", "TaskProfile"))


class Migration(migrations.Migration):
    dependencies = [("llm", "0003_call_tokens_estimated")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
