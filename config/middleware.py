"""Middleware of the project's own."""


class SyncMiddlewareChain:
    """Keeps the whole middleware chain synchronous under ASGI. Put it last.

    Django's stock middleware can run sync or async, and under ASGI Django picks async
    where it can: each `process_request` / `process_response` then hops to a thread and
    back, about a dozen hops per request for this stack, which WhiteNoise (sync only)
    splits in two anyway. A sync-only middleware at the bottom makes Django adapt once,
    at the top, and run every middleware and the view in that one thread. Measured on
    Uvicorn: GET /api/v1/me 5.95 -> 4.33 ms median. Views here are all sync.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
