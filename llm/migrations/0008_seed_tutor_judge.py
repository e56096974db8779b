"""Seed the `tutor_judge` profile (the tutor evaluation's judge); an existing row stays."""

from django.db import migrations

NAME = "tutor_judge"


def seed(apps, schema_editor):
    from llm.defaults import seed_profiles

    seed_profiles(apps.get_model("llm", "TaskProfile"), [NAME])


def unseed(apps, schema_editor):
    apps.get_model("llm", "TaskProfile").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("llm", "0007_call_allowance")]

    operations = [migrations.RunPython(seed, unseed)]
