from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teaching", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="module",
            name="build_log",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="module",
            name="source",
            field=models.CharField(
                choices=[
                    ("built", "Built from the learner's sentences"),
                    ("model", "Written by the model"),
                ],
                default="model",
                max_length=8,
            ),
        ),
    ]
