"""Gateway overhead against direct OpenAI-client calls, side by side, plus local tokens/s.

    .venv/bin/python bench/llm_gateway.py [--calls 200] [--first-token-delay 0.0]
        [--token-delay 0.0] [--base-url http://127.0.0.1:8100/v1] [--skip-local]

Both paths stream the same messages from the same OpenAI-compatible stub server (started
in-process unless --base-url points at one started with `python -m llm.testing.openai_stub`),
interleaved call by call so drift hits both equally. The gateway path includes everything
a feature pays for: profile lookup, quota check, retries wrapper, the openai provider
(the SDK client ChatOpenAI configured, read directly), accounting (one INSERT) and
logging. A third path, ChatOpenAI.stream on its own, shows what LangChain's per-chunk
message conversion would add. The database is a throwaway SQLite file unless
DATABASE_URL is set.

Figures (issue #3; 2 CPUs, SQLite, stub in-process, 15-token replies; medians of three
runs of 200 calls each, each started once the machine had been idle for 9 s; p95s still
move by a millisecond or two between runs). Target: the gateway adds at most 2 ms at p50
and 5 ms at p95 to the total time.

    gateway - direct (ms)                        TTFT p50  TTFT p95  total p50  total p95
    before: via ChatOpenAI.stream, ORM create()     +0.91     +1.38      +2.58      +4.27
    after:  SDK stream read directly, SQL INSERT    +0.42     -0.04      +0.93      +2.08

ChatOpenAI.stream alone adds +1.8 ms at p50 over the bare client (lc-direct below):
model_dump, AIMessageChunk and ChatGenerationChunk plus callbacks for every chunk. The
ORM's create() of the LLMCall row took ~0.35 ms, the plain INSERT ~0.15 ms.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the repository root is on the path only now)


def setup_django() -> None:
    common.setup_django("llm", log_level="INFO")


def direct_call(client, model: str, messages: list[dict], max_tokens: int, temperature: float):
    started = time.perf_counter()
    first = None
    stream = client.chat.completions.create(
        model=model,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        max_completion_tokens=max_tokens,
        temperature=temperature,
    )
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
    end = time.perf_counter()
    return (first - started) * 1000, (end - started) * 1000


def langchain_call(chat, messages: list[dict]):
    started = time.perf_counter()
    first = None
    for chunk in chat.stream(messages):
        if first is None and chunk.content:
            first = time.perf_counter()
    end = time.perf_counter()
    return (first - started) * 1000, (end - started) * 1000


def gateway_call(llm, messages: list[dict], user):
    started = time.perf_counter()
    first = None
    for _delta in llm.stream("chat", messages, user=user):
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    return (first - started) * 1000, (end - started) * 1000


def bench_gateway(args) -> None:
    import openai
    from django.conf import settings

    import llm
    from llm.models import LLMCall, TaskProfile
    from llm.testing.openai_stub import OpenAIStub

    stub = None
    base_url = args.base_url
    if not base_url:
        stub = OpenAIStub(first_token_delay=args.first_token_delay, token_delay=args.token_delay)
        base_url = stub.start().base_url
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.OPENAI_BASE_URL = base_url
    settings.OPENAI_API_KEY = "bench-key"
    profile = TaskProfile.objects.get(name="chat")
    user = common.learner(f"bench{int(time.time())}", password="bench-password-123")
    # Both paths send exactly these messages (the gateway keeps a caller's system message).
    messages = [
        {"role": "system", "content": llm.system_prompt("chat", learner_level="B1")},
        {"role": "user", "content": "How do I use the present perfect?"},
    ]
    client = openai.OpenAI(base_url=base_url, api_key="bench-key", max_retries=0)
    # A ChatOpenAI like the provider's, streamed through LangChain: what the per-chunk
    # message conversion would cost (the provider reads its SDK client directly).
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=base_url,
        api_key="bench-key",
        temperature=profile.temperature,
        max_tokens=profile.max_tokens,
        timeout=profile.timeout_seconds,
        max_retries=0,
        stream_usage=True,
    )
    paths = {
        "direct": lambda: direct_call(
            client, "gpt-4o-mini", messages, profile.max_tokens, profile.temperature
        ),
        "langchain": lambda: langchain_call(chat, messages),
        "gateway": lambda: gateway_call(llm, messages, user),
    }
    for _ in range(args.warmup):
        for call in paths.values():
            call()
    results = {name: [] for name in paths}
    order = list(paths.items())
    for index in range(args.calls):
        # Rotate the order so no path always runs right after another.
        shift = index % len(order)
        for name, call in order[shift:] + order[:shift]:
            results[name].append(call())
    if stub:
        stub.stop()

    print(f"\nGateway overhead: {args.calls} streamed calls each, interleaved, against the")
    print(f"OpenAI-compatible stub at {base_url} (first-token delay {args.first_token_delay}s,")
    print(f"token delay {args.token_delay}s, {len(messages)} messages, 15-token replies)\n")
    print(f"{'':10}{'TTFT p50':>10}{'TTFT p95':>10}{'total p50':>11}{'total p95':>11}   (ms)")
    rows = {}
    for name, samples in results.items():
        ttft = [s[0] for s in samples]
        total = [s[1] for s in samples]
        rows[name] = [
            common.percentile(ttft, 50),
            common.percentile(ttft, 95),
            common.percentile(total, 50),
            common.percentile(total, 95),
        ]
        print(f"{name:10}" + "".join(f"{v:>10.2f} " for v in rows[name]))

    def overhead(label: str, upper: str, lower: str) -> list[float]:
        values = [u - v for u, v in zip(rows[upper], rows[lower], strict=True)]
        print(f"{label:10}" + "".join(f"{v:>+10.2f} " for v in values))
        return values

    print()
    total = overhead("gw-direct", "gateway", "direct")
    overhead("lc-direct", "langchain", "direct")
    verdict = "within" if total[2] <= 2 and total[3] <= 5 else "OVER"
    print("\nTarget: the gateway adds at most 2 ms at p50 and 5 ms at p95 (total time, vs the")
    print(f"direct client): {verdict} target. gw-direct is everything the gateway adds (profile,")
    print("quota, retry/fallback wrapper, provider, accounting INSERT, logging); lc-direct is")
    print("what streaming through ChatOpenAI.stream would add, which the provider avoids.")
    print(f"Load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs.")
    recorded = LLMCall.objects.filter(user=user).count()
    print(f"LLMCall rows written by the gateway path: {recorded} (one per call)")
    print(f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")


def bench_local(args) -> None:
    from django.conf import settings

    from llm.providers import get_provider
    from llm.results import ProviderRequest, Usage

    provider = get_provider("local")
    messages = [
        {"role": "system", "content": "You are a friendly English tutor."},
        {"role": "user", "content": "Tell me a short story about a cat who learns to read."},
    ]
    provider.count_text("", "warm up")  # loads the model
    runs = []
    for _ in range(args.local_runs):
        request = ProviderRequest(
            task="bench",
            model="",
            messages=messages,
            temperature=0.7,
            max_tokens=args.local_tokens,
            timeout=600,
        )
        started = time.perf_counter()
        first = None
        usage = None
        for item in provider.stream(request):
            if isinstance(item, Usage):
                usage = item
            elif first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        decode_tokens = max(1, usage.completion_tokens - 1)
        runs.append((first - started, decode_tokens / (end - first), usage.completion_tokens))
    print(
        "\nLocal model (SmolLM2-135M-Instruct Q4_1, llama.cpp, "
        f"n_threads={settings.LLM_LOCAL_THREADS}),"
    )
    print(f"{args.local_runs} runs of up to {args.local_tokens} tokens:")
    for first, rate, tokens in runs:
        print(
            f"  first token {first * 1000:7.1f} ms, {tokens:3d} tokens, "
            f"{rate:6.1f} tokens/s decoding"
        )
    print(
        f"  median: {statistics.median(r[1] for r in runs):.1f} tokens/s; "
        f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--base-url", default="")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--local-runs", type=int, default=3)
    parser.add_argument("--local-tokens", type=int, default=64)
    args = parser.parse_args()
    setup_django()
    bench_gateway(args)
    if not args.skip_local:
        bench_local(args)


if __name__ == "__main__":
    main()
