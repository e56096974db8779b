from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        # These read models (the worker heartbeat, the metrics' tables): only once loaded.
        from ops import logs, metrics, wake

        wake.connect()
        logs.connect()
        limit_blas_threads()
        if not getattr(REGISTRY, "_coach_registered", False):
            REGISTRY.register(metrics.ProductCollector())
            REGISTRY._coach_registered = True


def limit_blas_threads() -> None:
    """BLAS on BLAS_THREADS threads (default one) for the whole process. Its matrices here
    are small (a batch's spaCy parse, a search over stored vectors), and a multi-threaded
    BLAS in a busy process spends longer waiting for its threads, which keep spinning
    after each product, than computing: measured in bench/analysis.py and bench/rag.py."""
    import numpy  # noqa: F401 - loads the BLAS library, which threadpoolctl only sees loaded
    from django.conf import settings
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=settings.BLAS_THREADS, user_api="blas")
