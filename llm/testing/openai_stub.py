"""A small OpenAI-compatible server for tests and benchmarks, on 127.0.0.1.

    with OpenAIStub() as stub:                       # a free port, served from a thread
        stub.queue(status=429, retry_after=1)        # the next request gets a 429
        stub.queue("Hello!", first_token_delay=0.2)  # then a slow first token
        ... point OPENAI_BASE_URL at stub.base_url ...
        stub.requests                                # the JSON bodies received

It serves POST /v1/embeddings (deterministic vectors) and POST /v1/chat/completions:
streamed SSE (usage in a final chunk when `stream_options.include_usage`), plain JSON,
JSON mode, json_schema and tool calls (the reply is then a minimal instance of the
schema unless a text is queued), and GET /v1/models. Queued replies can fail: any status
with Retry-After, malformed JSON, a stream that stalls. With the queue empty, replies
come at the server's own pace (`first_token_delay`, `token_delay`). Like llama.cpp's
server it honours `max_tokens` and ignores `max_completion_tokens`; attributes make it
behave like other servers: `reject_json_schema` (with `json_schema_status`),
`honour_max_tokens`, `send_usage`, `models` (what GET /models lists) and `api_key` (401
for any other key):

    python -m llm.testing.openai_stub --port 8100 --first-token-delay 0.2 --token-delay 0.01
"""

import argparse
import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llm.schemas import example_for

DEFAULT_TEXT = "Sure! Here is a short answer from the test model, one token at a time."
_TOKEN = re.compile(r"\s*\S+")


@dataclass
class StubReply:
    """One scripted response. Unset delays use the server's pace."""

    text: str | None = None
    status: int = 200
    retry_after: float | None = None
    malformed: bool = False
    stall_after_chunks: int | None = None
    first_token_delay: float | None = None
    token_delay: float | None = None


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text) or [text]


EMBEDDING_DIM = 8


def _hash_vector(text: str) -> list[float]:
    import hashlib

    digest = hashlib.sha256(str(text).encode()).digest()
    return [(byte - 128) / 128 for byte in digest[:EMBEDDING_DIM]]


def _estimate(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content") or "")) // 4 + 3 for m in messages) + 3


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients drop connections at will (a cancelled stream, a closed pool): not news.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class OpenAIStub:
    def __init__(
        self,
        *,
        port: int = 0,
        first_token_delay: float = 0.0,
        token_delay: float = 0.0,
        default_text: str = DEFAULT_TEXT,
        reject_json_schema: bool = False,
    ) -> None:
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.default_text = default_text
        self.configure(reject_json_schema=reject_json_schema)
        self.requests: list[dict[str, Any]] = []
        self.gets: list[str] = []  # paths of GET requests
        self._replies: deque[StubReply] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.stub = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def queue(self, text: str | None = None, **options: Any) -> StubReply:
        reply = StubReply(text=text, **options)
        with self._lock:
            self._replies.append(reply)
        return reply

    def configure(
        self,
        *,
        reject_json_schema: bool = False,
        json_schema_status: int = 400,
        honour_max_tokens: bool = True,
        send_usage: bool = True,
        models: tuple[str, ...] = ("stub-model",),
        api_key: str | None = None,
    ) -> None:
        """How the server behaves; every call starts from the defaults."""
        # An endpoint without json_schema support answers it with this status (OpenAI's
        # older models a 400, llama.cpp's server a 500), to test fallbacks.
        self.reject_json_schema = reject_json_schema
        self.json_schema_status = json_schema_status
        self.honour_max_tokens = honour_max_tokens
        self.send_usage = send_usage
        self.models = models
        self.api_key = api_key

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.requests.clear()
            self.gets.clear()
        self.configure()

    def start(self) -> "OpenAIStub":
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="openai-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "OpenAIStub":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _next(self, body: dict[str, Any]) -> StubReply:
        with self._lock:
            self.requests.append(body)
            return self._replies.popleft() if self._replies else StubReply()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real endpoint
    server: ThreadingHTTPServer

    def setup(self) -> None:
        super().setup()
        # Small SSE writes must leave at once, not wait for Nagle's algorithm.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def stub(self) -> OpenAIStub:
        return self.server.stub  # type: ignore[attr-defined]

    def _authorised(self, counting: dict[str, Any] | None = None) -> bool:
        """Whether the key is right; else a 401, with the refused body (`counting`) counted
        before the answer goes out, so a test that reads the count after its call sees it."""
        expected = self.stub.api_key
        if expected is None or self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        if counting is not None:
            self.stub.requests.append(counting)
        self._json(401, {"error": {"message": "invalid api key", "type": "invalid_api_key"}})
        return False

    def do_GET(self) -> None:
        self.stub.gets.append(self.path)
        if not self._authorised():
            return
        if self.path.rstrip("/") == "/v1/models":
            data = [{"id": name, "object": "model"} for name in self.stub.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._json(
                400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error"}}
            )
            return
        if not self._authorised(counting=body):
            return
        if self.path.rstrip("/") == "/v1/embeddings":
            self._embeddings(body)
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.stub.requests.append(body)
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        reply = self.stub._next(body)
        if reply.status != 200:
            self._error(reply)
        elif self._rejects(body):
            self._json(
                self.stub.json_schema_status,
                {
                    "error": {
                        "message": "response_format json_schema is not supported",
                        "type": "invalid_request_error",
                    }
                },
            )
        elif body.get("stream"):
            self._stream(body, reply)
        else:
            self._complete(body, reply)

    # -- responses -------------------------------------------------------------------

    def _embeddings(self, body: dict[str, Any]) -> None:
        """Deterministic vectors: the same text always gets the same one."""
        self.stub.requests.append(body)
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        data = [
            {"object": "embedding", "index": i, "embedding": _hash_vector(text)}
            for i, text in enumerate(texts)
        ]
        tokens = sum(len(_tokens(str(text))) for text in texts)
        response = {"object": "list", "data": data, "model": body.get("model")}
        if self.stub.send_usage:
            response["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        self._json(200, response)

    def _rejects(self, body: dict[str, Any]) -> bool:
        kind = (body.get("response_format") or {}).get("type")
        return self.stub.reject_json_schema and kind == "json_schema"

    def _error(self, reply: StubReply) -> None:
        headers = {}
        if reply.retry_after is not None:
            headers["Retry-After"] = str(max(0, round(reply.retry_after)))
            headers["retry-after-ms"] = str(int(reply.retry_after * 1000))
        kind = "rate_limit_error" if reply.status == 429 else "server_error"
        if 400 <= reply.status < 500 and reply.status != 429:
            kind = "invalid_request_error"
        self._json(
            reply.status, {"error": {"message": f"stub {reply.status}", "type": kind}}, headers
        )

    def _text_and_tool(self, body: dict[str, Any], reply: StubReply) -> tuple[str, dict | None]:
        """The reply text, or for a forced tool call the tool's name and arguments."""
        schema = None
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = response_format["json_schema"].get("schema", {})
        tools = body.get("tools") or []
        if tools:
            function = tools[0]["function"]
            arguments = (
                reply.text
                if reply.text is not None
                else json.dumps(example_for(function.get("parameters", {})))
            )
            return "", {"name": function["name"], "arguments": arguments}
        if reply.text is not None:
            return reply.text, None
        if schema is not None:
            return json.dumps(example_for(schema)), None
        if response_format.get("type") == "json_object":
            return json.dumps({"answer": "example"}), None
        return self.stub.default_text, None

    def _complete(self, body: dict[str, Any], reply: StubReply) -> None:
        text, tool = self._text_and_tool(body, reply)
        delay = reply.first_token_delay
        delay = self.stub.first_token_delay if delay is None else delay
        if delay and self.stub.stopping.wait(delay):
            return
        if reply.malformed:
            self._raw(200, b'{"id": "chatcmpl-stub", "choices": [', "application/json")
            return
        text = "".join(self._limited(body, _tokens(text))) if text else text
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if tool:
            message["tool_calls"] = [{"id": "call_stub", "type": "function", "function": tool}]
        completion_tokens = len(_tokens(text or (tool or {}).get("arguments", "")))
        self._json(
            200,
            {
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "stub-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if tool else "stop",
                    }
                ],
                **({"usage": self._usage(body, completion_tokens)} if self.stub.send_usage else {}),
            },
        )

    def _stream(self, body: dict[str, Any], reply: StubReply) -> None:
        text, _tool = self._text_and_tool(body, reply)
        first = (
            self.stub.first_token_delay
            if reply.first_token_delay is None
            else reply.first_token_delay
        )
        pace = self.stub.token_delay if reply.token_delay is None else reply.token_delay
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "stub-model"),
        }
        try:
            self._event(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": ""},
                            "finish_reason": None,
                        }
                    ],
                }
            )
            if first and self.stub.stopping.wait(first):
                return
            tokens = self._limited(body, _tokens(text))
            for index, token in enumerate(tokens):
                if reply.stall_after_chunks is not None and index >= reply.stall_after_chunks:
                    self.stub.stopping.wait(60)  # hold the connection open, silent
                    return
                if reply.malformed and index == 1:
                    self._chunk(b'data: {"id": "chatcmpl-stub", "choices": [{\n\n')
                    continue
                if index and pace and self.stub.stopping.wait(pace):
                    return
                self._event(
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"content": token}, "finish_reason": None}
                        ],
                    }
                )
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if self.stub.send_usage and (body.get("stream_options") or {}).get("include_usage"):
                self._event({**base, "choices": [], "usage": self._usage(body, len(tokens))})
            # The last event and the end of the chunked body in one write, so that a client
            # that stops reading at [DONE] still finds the body complete and keeps the
            # connection alive.
            done = b"data: [DONE]\n\n"
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _limited(self, body: dict[str, Any], tokens: list[str]) -> list[str]:
        """The reply cut at `max_tokens`, as llama.cpp's server does (it ignores
        `max_completion_tokens`, which only OpenAI reads)."""
        limit = body.get("max_tokens")
        if self.stub.honour_max_tokens and isinstance(limit, int) and limit > 0:
            return tokens[:limit]
        return tokens

    # -- plumbing --------------------------------------------------------------------

    @staticmethod
    def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
        prompt_tokens = _estimate(body.get("messages", []))
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def _event(self, payload: dict[str, Any]) -> None:
        self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--text", default=DEFAULT_TEXT)
    args = parser.parse_args()
    stub = OpenAIStub(
        port=args.port,
        first_token_delay=args.first_token_delay,
        token_delay=args.token_delay,
        default_text=args.text,
    )
    print(f"OpenAI-compatible stub on {stub.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stub._server.serve_forever()


if __name__ == "__main__":
    main()
