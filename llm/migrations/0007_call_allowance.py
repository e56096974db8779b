from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("llm", "0006_task_profile_reply_style")]

    operations = [
        migrations.AddField(
            model_name="llmcall",
            name="allowance",
            field=models.CharField(
                choices=[("chat", "Chat"), ("background", "Background work")],
                default="chat",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="llmcall",
            name="integration",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
