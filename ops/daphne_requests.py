"""Daphne's HTTP requests, made to answer as the product does (Uvicorn needs none of it):

- Twisted parses every multipart body itself before Daphne sees it, and answers one it
  cannot parse (no boundary, only the closing one) with a bare 400, no body and no
  Content-Type. Django parses uploads anyway: Twisted is shown another content type.
- Twisted reads a whole body before handing it over, so a body over REQUEST_MAX_BYTES is
  refused here, by its Content-Length before it is read or as a chunked one passes it.

Imported only by `manage.py serve --server daphne` (Daphne installs Twisted's reactor).
"""

import json

from daphne.http_protocol import WebRequest
from django.conf import settings

HIDDEN = b"application/x-curiosity-multipart"


class ProductRequest(WebRequest):
    def gotLength(self, length) -> None:
        self._body_seen = 0
        if length is not None and length > settings.REQUEST_MAX_BYTES:
            self._refuse_too_large()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if getattr(self, "_refused", False):
            return
        self._body_seen = getattr(self, "_body_seen", 0) + len(data)
        if self._body_seen > settings.REQUEST_MAX_BYTES:
            self._refuse_too_large()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version) -> None:
        if getattr(self, "_refused", False):
            return
        content_type = self.requestHeaders.getRawHeaders(b"content-type") or []
        if content_type and content_type[0].split(b";")[0].strip().lower() == (
            b"multipart/form-data"
        ):
            self._multipart = content_type
            self.requestHeaders.setRawHeaders(b"content-type", [HIDDEN])
        super().requestReceived(command, path, version)

    def process(self) -> None:
        original = getattr(self, "_multipart", None)
        if original:
            self.requestHeaders.setRawHeaders(b"content-type", original)
        super().process()

    def _refuse_too_large(self) -> None:
        self._refused = True
        limit = settings.REQUEST_MAX_BYTES
        body = json.dumps(
            {
                "error": "Request body too large",
                "detail": f"A request body may be at most {limit} bytes.",
            }
        ).encode()
        head = (
            "HTTP/1.1 413 Request Entity Too Large\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self.channel.transport.write(head + body)
        self.channel.transport.loseConnection()
