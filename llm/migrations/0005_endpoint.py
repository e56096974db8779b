import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import llm.models


class Migration(migrations.Migration):
    dependencies = [("llm", "0004_refresh_shipped_prompts")]

    operations = [
        migrations.CreateModel(
            name="Endpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=80, unique=True)),
                (
                    "base_url",
                    models.CharField(
                        help_text="Up to and including /v1: http://localhost:11434/v1 (Ollama), "
                        "http://localhost:8080/v1 (llama.cpp), https://api.openai.com/v1.",
                        max_length=300,
                        validators=[llm.models.validate_base_url],
                        verbose_name="base URL",
                    ),
                ),
                (
                    "model",
                    models.CharField(
                        blank=True,
                        help_text="The model to ask for. Empty: the one model the endpoint serves.",
                        max_length=200,
                    ),
                ),
                (
                    "api_key_env",
                    models.CharField(
                        blank=True,
                        help_text="Read the key from this environment variable of the server "
                        "process instead of storing it.",
                        max_length=100,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Za-z_][A-Za-z0-9_]*$", "A variable name, e.g. GROQ_KEY"
                            )
                        ],
                        verbose_name="key from environment variable",
                    ),
                ),
                ("api_key_encrypted", models.TextField(blank=True, editable=False)),
                ("last_checked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("last_check_ok", models.BooleanField(editable=False, null=True)),
                ("last_check_report", models.TextField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.AddField(
            model_name="taskprofile",
            name="endpoint",
            field=models.ForeignKey(
                blank=True,
                help_text="Send this task's calls to a connected endpoint; provider and model "
                "above are then not used.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="profiles",
                to="llm.endpoint",
            ),
        ),
    ]
