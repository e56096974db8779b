"""Chat first: a learner's first token on the built-in model while background work runs.

In one process, like `make run`: the in-process SmolLM2 model (llama.cpp), one thread
analysing a batch of learner sentences (analysis.analyser.analyse_utterances, one
sentence per call, the shipped default), one thread building lessons (the lesson
builder's module_generation calls with its schema, one module per call), and a learner
who sends a chat turn every few seconds through the gateway (llm.stream("chat")). Each
reply's time to first token is measured from the moment it was asked for.

    .venv/bin/python bench/chat_first.py                 # priority gate (the product)
    .venv/bin/python bench/chat_first.py --fifo          # one plain queue, for comparison
    .venv/bin/python bench/chat_first.py --turns 16 --think 3   # a fast typist

Printed: first-token p50/p95/max on the idle model, then while the background work runs;
how many background calls finished and how often one stepped aside for a reply; the
load average before and after (the machine may be shared: read the figures with it).
The database is a throwaway SQLite file. Keep runs short (the default is about two
minutes on two cores).

Figures, 2026-12-03, on a 2-core machine shared with other work (load average 5-8
throughout, so every figure is several times an idle machine's), 48-token replies:

    run                                   idle p50/p95 s   busy p50 / p95 / max s   turns
    priority gate, --turns 12 --think 4   0.60 / 0.76      0.25 / 0.80 / 1.80       12
    priority gate, --think 8 (10 turns)   0.26 / 0.52      0.25 / 1.31 / 1.31       10
    priority gate, --turns 16 --think 3   0.39 / 0.74      0.44 / 1.46 / 1.74       16
    --fifo --turns 4 --think 4 (killed after two turns at 200 s)   54.37, 56.35 s    2

The trade-off: background work waits for pauses in the chat. At this load one analysis
call (about 1,300 prompt and 250-370 reply tokens) takes 30-80 s on its own, so with a
turn every 4-8 s no background call finished during these runs (each stepped aside at
every turn; its evaluated prompt is kept, its partial generation is not). On an idle
machine the calls are several times shorter and fill the pauses;
LLM_LOCAL_STEP_ASIDE_LIMIT bounds the restarts where background progress matters more.
"""

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the repository root is on the path only now)

DEV_SENTENCES = Path("/work/shared/data/learner-english-dev/dev_sentences.jsonl")
FALLBACK_SENTENCES = [
    "She have three childs.",
    "I am living in Seoul since five years.",
    "He go to school every day.",
    "Yesterday I buyed a new phone.",
    "I am agree with you.",
    "There is many peoples in the city.",
    "I didn't went to the party.",
    "My sister is more taller than me.",
]
LEARNER_TURNS = [
    "Hi! I want to practise my English today.",
    "Yesterday I go to the market with my sister.",
    "When do I use since and for?",
    "I like cooking. What do you like?",
    "Can you tell me a short story about a cat?",
    "I have been to London two times.",
]


def setup_django() -> None:
    os.environ.setdefault("LLM_MODEL", "")
    common.setup_django("chat-first", LLM_PROVIDER="local")


def sentences(count: int) -> list[str]:
    if DEV_SENTENCES.exists():
        with DEV_SENTENCES.open() as rows:
            found = [json.loads(line)["source"] for line in rows]
        found = [s for s in found if len(s) < 120]
        random.Random(7).shuffle(found)
        return found[:count]
    return (FALLBACK_SENTENCES * count)[:count]


FAILED_TURNS: list[str] = []


def first_token_seconds(turn: str, user) -> float:
    """Seconds to the first token; a failed reply counts as the time it took to fail."""
    import llm

    started = time.perf_counter()
    first = None
    try:
        for _ in llm.stream("chat", [{"role": "user", "content": turn}], user=user):
            if first is None:
                first = time.perf_counter() - started
    except llm.errors.LLMError as exc:
        FAILED_TURNS.append(f"{exc.__class__.__name__}: {exc.detail}")
    return first if first is not None else time.perf_counter() - started


class Background:
    """Analysis and lesson threads, each looping over short calls until stopped."""

    def __init__(self, user) -> None:
        self.user = user
        self.stop = threading.Event()
        self.done = {"analysis": 0, "module_generation": 0}
        self.failed: list[str] = []
        self.threads = [
            threading.Thread(target=self._analysis, daemon=True),
            threading.Thread(target=self._lessons, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        """Stop after the calls in progress; daemon threads, so a long one is not awaited."""
        self.stop.set()

    def _analysis(self) -> None:
        from analysis.analyser import analyse_utterances
        from analysis.core.schemas import UtteranceIn

        batch = [UtteranceIn(key=str(n), text=t) for n, t in enumerate(sentences(400))]
        for utterance in batch:
            # The product's analysis job asks for each sentence in its own call
            # (ANALYSIS_UTTERANCES_PER_CALL=1); counted one by one here.
            if self.stop.is_set():
                return
            self._run("analysis", lambda u=utterance: analyse_utterances([u], user=self.user))

    def _lessons(self) -> None:
        import llm
        from teaching.core.schemas import ModuleContent

        template = (ROOT / "teaching/prompts/module_generation_user.txt").read_text()
        prompt = template.format(
            focus_name="Present simple, third person",
            error_type="VERB:SVA",
            sentence="He go to school every day.",
            corrected="He goes to school every day.",
            more_examples="",
            explanation_language_name="English",
            learner_level="B1",
            guidance="",
        )
        messages = [{"role": "user", "content": prompt}]
        while not self.stop.is_set():
            self._run(
                "module_generation",
                lambda: llm.structured(
                    "module_generation", messages, schema=ModuleContent, user=self.user
                ),
            )

    def _run(self, task: str, call) -> None:
        try:
            call()
            self.done[task] += 1
        except Exception as exc:  # counted and shown: a failed lesson is a figure too
            self.failed.append(f"{task}: {exc.__class__.__name__}: {exc}"[:160])


def use_one_queue() -> None:
    """Every call at one priority and none stepping aside: a FIFO lock, as before."""
    import llm.providers.local as local
    from llm.scheduling import INTERACTIVE

    local.priority_for = lambda task: INTERACTIVE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=10, help="chat turns under load")
    parser.add_argument("--idle-turns", type=int, default=5, help="chat turns on the idle model")
    parser.add_argument(
        "--think", type=float, default=8.0, help="mean seconds a learner reads and types"
    )
    parser.add_argument("--reply-tokens", type=int, default=48, help="chat max_tokens")
    parser.add_argument("--fifo", action="store_true", help="no priority (the old lock)")
    args = parser.parse_args()

    setup_django()
    from llm.models import TaskProfile
    from llm.providers import get_provider

    if args.fifo:
        use_one_queue()
    TaskProfile.objects.update(cache_enabled=False)
    TaskProfile.objects.filter(name="chat").update(max_tokens=args.reply_tokens)
    user = common.learner(email="")
    load_before = os.getloadavg()
    rng = random.Random(3)

    first_token_seconds("Hello!", user)  # loads the model
    idle = [first_token_seconds(LEARNER_TURNS[i % 6], user) for i in range(args.idle_turns)]

    print(f"idle: {', '.join(f'{v:.2f}' for v in idle)} s", file=sys.stderr, flush=True)
    background = Background(user)
    background.start()
    time.sleep(3)  # both background threads are into their calls
    busy = []
    started = time.monotonic()
    for index in range(args.turns):
        time.sleep(rng.uniform(args.think / 2, args.think * 1.5))
        busy.append(first_token_seconds(LEARNER_TURNS[index % len(LEARNER_TURNS)], user))
        print(f"  turn {index + 1}: first token {busy[-1]:.2f} s", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    background.finish()
    load_after = os.getloadavg()

    provider = get_provider("local")
    mode = "one FIFO queue (--fifo)" if args.fifo else "priority gate"
    print(f"chat first, {mode}; {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    for name, values in (("idle model", idle), ("analysis + lessons running", busy)):
        print(
            f"  first token, {name:28} n={len(values):3}  p50 {statistics.median(values):6.2f} s"
            f"  p95 {common.percentile(values, 95):6.2f} s  max {max(values):6.2f} s"
        )
    print(
        f"  background over {elapsed:.0f} s: {background.done['analysis']} sentences analysed, "
        f"{background.done['module_generation']} lessons built, "
        f"{getattr(provider, 'steps_aside', 0)} calls stepped aside for a reply, "
        f"{len(background.failed)} failed"
    )
    for failure in background.failed[:5]:
        print(f"    {failure}")
    print(f"  chat replies that failed: {len(FAILED_TURNS)}")
    for failure in FAILED_TURNS[:5]:
        print(f"    {failure}")


if __name__ == "__main__":
    main()
