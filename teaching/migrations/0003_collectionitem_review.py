from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teaching", "0002_module_source_build_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="collectionitem",
            name="review",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
