from django.contrib import admin

from ops.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "threads", "running_tasks", "last_seen")
    readonly_fields = [f.name for f in WorkerHeartbeat._meta.fields]
