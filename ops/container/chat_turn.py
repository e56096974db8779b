"""One chat turn against a running deployment, from outside, as an API client would.

Signs in with a JWT (POST /api/v1/auth/token/), starts a conversation with a first message
(POST /api/v1/conversations/), then follows the reply over the conversation's websocket
(resume from 0, assemble the deltas by offset, wait for reply.completed) and checks it
against what the REST API stored. Prints one JSON line with the timings:

    python ops/container/chat_turn.py --url http://127.0.0.1:8000 --username U --password P

Exit 0 when the reply completed with text; 1 otherwise. Needs httpx and websockets (the
dev dependencies).
"""

import argparse
import asyncio
import json
import sys
import time
import uuid


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def chat_turn(url: str, username: str, password: str, text: str, timeout: float) -> dict:
    import httpx
    import websockets

    ws_url = "ws" + url.removeprefix("http")
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        token = await http.post(
            "/api/v1/auth/token/", json={"username": username, "password": password}
        )
        token.raise_for_status()
        auth = {"Authorization": f"Bearer {token.json()['access']}"}
        http.headers.update(auth)

        started = time.perf_counter()
        created = await http.post(
            "/api/v1/conversations/",
            json={"text": text},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        created.raise_for_status()
        posted = time.perf_counter() - started
        conversation = created.json()
        reply_seq = max(m["seq"] for m in conversation["messages"] if m["role"] == "assistant")

        reply_text, first_delta, final = "", None, None
        socket_url = f"{ws_url}/ws/conversations/{conversation['id']}/"
        async with websockets.connect(socket_url, additional_headers=auth) as ws:
            await ws.send(json.dumps({"type": "resume", "after_seq": 0}))
            deadline = started + timeout
            while final is None:
                raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.perf_counter()))
                event = json.loads(raw)
                if event.get("seq") != reply_seq:
                    continue
                kind = event["type"]
                if kind == "reply.delta":
                    first_delta = first_delta or time.perf_counter() - started
                    have = utf16_len(reply_text)
                    if event["offset"] > have:  # a lost frame: ask again from the database
                        await ws.send(json.dumps({"type": "resume", "after_seq": reply_seq - 1}))
                        continue
                    skip = have - event["offset"]
                    reply_text += event["text"].encode("utf-16-le")[2 * skip :].decode("utf-16-le")
                elif kind in ("reply.completed", "reply.failed"):
                    final = event["message"]
                elif kind == "message.created":
                    message = event["message"]
                    if message["status"] in ("complete", "failed", "cancelled"):
                        final = message
                    elif len(message["content"]) > len(reply_text):
                        reply_text = message["content"]
        completed = time.perf_counter() - started

        stored = (await http.get(f"/api/v1/conversations/{conversation['id']}/")).json()
        stored_reply = next(m for m in stored["messages"] if m["seq"] == reply_seq)
    return {
        "conversation_id": conversation["id"],
        "status": final["status"],
        "model": final.get("model"),
        "reply_chars": len(final["content"]),
        "reply": final["content"][:200],
        "streamed_matches_stored": reply_text in ("", stored_reply["content"]),
        "post_ms": round(posted * 1000, 1),
        "first_delta_ms": None if first_delta is None else round(first_delta * 1000, 1),
        "completed_ms": round(completed * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--text", default="Hello! Yesterday I goed to the market. Is that right?")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the reply")
    args = parser.parse_args(argv)
    result = asyncio.run(chat_turn(args.url, args.username, args.password, args.text, args.timeout))
    print(json.dumps(result), flush=True)
    ok = result["status"] == "complete" and result["reply_chars"] > 0
    return 0 if ok and result["streamed_matches_stored"] else 1


if __name__ == "__main__":
    sys.exit(main())
