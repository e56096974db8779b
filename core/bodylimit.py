"""An ASGI wrapper that refuses request bodies over REQUEST_MAX_BYTES before Django reads
them: Django's ASGI handler spools the whole body to disk before any view or middleware
can look at its size, so a 100 MB upload would be read in full to be told 413."""

import json

from django.conf import settings

TOO_LARGE = 413


def body_limited(app):
    async def limited(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        limit = settings.REQUEST_MAX_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send, limit)
        seen = 0
        exceeded = False
        started = False

        async def counted_receive():
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # A chunked body past the limit: read no further; Django sees the
                    # client leave, and the answer below is the 413.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await app(scope, counted_receive, tracked_send)
        if exceeded and not started:
            await _refuse(send, limit)

    return limited


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send, limit: int) -> None:
    body = json.dumps(
        {
            "error": "Request body too large",
            "detail": f"A request body may be at most {limit} bytes.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
