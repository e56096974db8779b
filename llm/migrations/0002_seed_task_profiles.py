"""Seed one TaskProfile per task type; system prompts come from the owning features' files.

The prompt text is copied into the row (staff edit it in the admin afterwards). Existing
rows are left untouched.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from llm.defaults import seed_profiles

    seed_profiles(apps.get_model("llm", "TaskProfile"))


def unseed(apps, schema_editor):
    from llm.defaults import PROFILES

    apps.get_model("llm", "TaskProfile").objects.filter(name__in=PROFILES).delete()


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
