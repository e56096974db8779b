"""What follows a change of a user's credentials, wherever it is made (the pages, the
admin, `manage.py changepassword`, account deletion): their open sockets close, and a
deleted user's sessions go with them."""

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from core.websocket import user_sockets_close


def _note_password_change(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True)
    instance._password_changed = stored.first() not in (None, instance.password)


def _close_after_password_change(sender, instance, created=False, **kwargs) -> None:
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        user_sockets_close(instance.pk)


def _end_deleted_users_sessions(sender, instance, **kwargs) -> None:
    sessions_end(instance.pk)
    user_sockets_close(instance.pk)
    transaction.on_commit(_checkpoint_sqlite, robust=True)


def _checkpoint_sqlite() -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it: the
    deleted rows' text would otherwise stay in the log until the next checkpoint
    (secure_delete zeroes them in the file itself). PostgreSQL: docs/deploy.md."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def sessions_end(user_id: int) -> int:
    """Delete every stored session of the user; how many there were. Sessions are not
    indexed by user, so each is decoded: fine for an action as rare as this."""
    keys = [
        session.session_key
        for session in Session.objects.iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == str(user_id)
    ]
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    return deleted


def connect() -> None:
    user = get_user_model()
    pre_save.connect(_note_password_change, sender=user, dispatch_uid="accounts-password")
    post_save.connect(_close_after_password_change, sender=user, dispatch_uid="accounts-password")
    post_delete.connect(_end_deleted_users_sessions, sender=user, dispatch_uid="accounts-deleted")
