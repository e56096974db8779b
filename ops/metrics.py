"""Product gauges for /metrics, read from the database at scrape time.

Request and database metrics come from django-prometheus; this adds what only the
product knows. Worker processes are separate, so their state is read from their rows.
"""

from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ops.models import WorkerHeartbeat


class ProductCollector(Collector):
    def describe(self):
        # Registration would otherwise call collect() and query a database that may not
        # exist yet (during migrate, for instance).
        yield GaugeMetricFamily("coach_tasks", "Background tasks by status")
        yield GaugeMetricFamily("coach_worker_heartbeat_age_seconds", "Seconds since report")
        yield GaugeMetricFamily("coach_worker_running_tasks", "Tasks running in each worker")

    def collect(self):
        tasks = GaugeMetricFamily("coach_tasks", "Background tasks by status", labels=["status"])
        for row in DBTaskResult.objects.values("status").annotate(n=Count("id")):
            tasks.add_metric([row["status"]], row["n"])
        yield tasks

        workers = GaugeMetricFamily(
            "coach_worker_heartbeat_age_seconds",
            "Seconds since each worker reported",
            labels=["worker"],
        )
        running = GaugeMetricFamily(
            "coach_worker_running_tasks", "Tasks running in each worker", labels=["worker"]
        )
        now = timezone.now()
        for beat in WorkerHeartbeat.objects.all():
            workers.add_metric([beat.worker_id], (now - beat.last_seen).total_seconds())
            running.add_metric([beat.worker_id], beat.running_tasks)
        yield workers
        yield running
