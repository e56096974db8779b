from django.contrib import admin

from conversations.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    can_delete = False
    fields = ("seq", "role", "status", "task_type", "content", "model", "attempts", "error")
    readonly_fields = fields
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "mode", "task_type", "last_seq", "updated_at", "ended_at")
    list_filter = ("mode", "task_type", "ended_at")
    search_fields = ("title", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("last_seq", "summary_through_seq", "summary_target_seq", "client_id")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Generation state at a glance: staff can see which replies failed and why."""

    list_display = ("conversation", "seq", "role", "status", "attempts", "model", "created_at")
    list_filter = ("status", "role", "task_type")
    search_fields = ("content", "error")
    raw_id_fields = ("conversation", "reply_to")
    readonly_fields = ("heartbeat_at", "queued_at", "task_id", "token_count")
