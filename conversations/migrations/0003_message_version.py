"""Replies get their version number: 1 for a first reply, then one more per regenerate.
Existing regenerated replies are numbered by their order among the replies to their
learner message."""

from django.db import migrations, models


def number_versions(apps, schema_editor):
    Message = apps.get_model("conversations", "Message")
    regenerated = (
        Message.objects.filter(replaces_seq__isnull=False)
        .values_list("reply_to_id", flat=True)
        .distinct()
    )
    for reply_to_id in regenerated.iterator():
        replies = Message.objects.filter(reply_to_id=reply_to_id).order_by("seq")
        for number, reply in enumerate(replies, start=1):
            if reply.version != number:
                reply.version = number
                reply.save(update_fields=["version"])


class Migration(migrations.Migration):
    dependencies = [("conversations", "0002_message_citations")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.RunPython(number_versions, migrations.RunPython.noop),
    ]
