"""`manage.py serve`: the whole product in one process, for one machine.

The ASGI server and the task worker share the process, so the in-memory channel layer
carries replies from worker threads to the websockets with no broker at all. Ctrl-C stops
both: the server first, then the worker finishes or hands back its running tasks.
For several processes, run the web server and `manage.py db_worker` apart, with REDIS_URL.
"""

import threading

from channels.routing import get_default_application
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string

from ops.management.commands.db_worker import ConcurrentWorker

WORKER_STOP_SECONDS = 10


class Command(BaseCommand):
    help = "Serve the web app and run the task worker together in one process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
        parser.add_argument("--threads", type=int, default=settings.WORKER_THREADS)
        parser.add_argument("--no-worker", action="store_true", help="Serve only.")

    def handle(self, *, host: str, port: int, server: str, threads: int, **options) -> None:
        worker = None if options["no_worker"] else self.start_worker(threads)
        self.stdout.write(f"Curiosity Coach on http://{host}:{port}/  ({server}; Ctrl-C stops)")
        try:
            run_server = {"daphne": serve_daphne, "uvicorn": serve_uvicorn}[server]
            run_server(host, port)
        finally:
            if worker is not None:
                self.stop_worker(worker)

    def start_worker(self, threads: int) -> tuple[ConcurrentWorker, threading.Thread]:
        if threads < 1:
            raise CommandError("--threads must be at least 1")
        worker = ConcurrentWorker.for_all_queues(
            threads=threads, worker_id=f"serve-{get_random_string(12)}"
        )
        thread = threading.Thread(target=worker.run, name="task-worker", daemon=True)
        thread.start()
        return worker, thread

    def stop_worker(self, worker_and_thread: tuple[ConcurrentWorker, threading.Thread]) -> None:
        worker, thread = worker_and_thread
        worker.running = False
        thread.join(timeout=WORKER_STOP_SECONDS)
        if thread.is_alive():
            self.stderr.write("Worker still busy; unfinished replies resume on the next start.")


def serve_daphne(host: str, port: int) -> None:
    # daphne.server installs Twisted's asyncio reactor on import; keep it local.
    from daphne.endpoints import build_endpoint_description_strings

    application = get_default_application()
    limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
    _daphne_server_class()(
        application=application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        signal_handlers=True,
        websocket_timeout=86400,
        websocket_max_message_size=limit,
        websocket_max_frame_size=limit,
    ).run()


def _daphne_server_class():
    from daphne.server import Server

    class Limited(Server):
        """Daphne whose sockets answer an oversized message with a 1009 close frame, as
        Uvicorn's do: by default Autobahn drops the connection without one."""

        @property
        def ws_factory(self):
            return self._ws_factory

        @ws_factory.setter
        def ws_factory(self, factory) -> None:
            # Daphne sets its own options right after; Autobahn keeps the ones not named.
            factory.setProtocolOptions(failByDrop=False)
            self._ws_factory = factory

        @property
        def http_factory(self):
            return self._http_factory

        @http_factory.setter
        def http_factory(self, factory) -> None:
            # Requests that answer a bad multipart body and an oversized one as Uvicorn's
            # do (ops.daphne_requests). Imported here: it loads Twisted's web server,
            # which only a Daphne server needs (Uvicorn does not).
            from ops.daphne_requests import ProductRequest

            build = factory.buildProtocol

            def build_protocol(addr):
                protocol = build(addr)
                protocol.requestFactory = ProductRequest
                return protocol

            factory.buildProtocol = build_protocol
            self._http_factory = factory

    return Limited


def serve_uvicorn(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        "config.asgi:application",
        host=host,
        port=port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        # The client address is settled by Django from TRUSTED_PROXIES
        # (core.middleware); Uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1.
        proxy_headers=False,
        # Reply deltas are small frames: compressing each costs more CPU than it saves.
        ws_per_message_deflate=False,
        ws_max_size=settings.WEBSOCKET_MAX_MESSAGE_BYTES,
    )
