"""Analysis pipeline: overhead per batch through the task backend, annotation per
utterance, and (once, briefly) seconds per batch with the local model.

    .venv/bin/python bench/analysis.py [--batches 30] [--local [--local-utterances 10]]
        [--only-local]

1. Pipeline overhead: a learner's 10th message is committed; the batch is formed, queued
   on django-tasks-db, claimed by the product's worker (in-process thread, as `serve`
   runs it), analysed with the `scripted` model (zero model time: the reply is queued),
   annotated with ERRANT and stored; the clock stops when the batch row is DONE. Target
   (issue #9): p50 <= 50 ms, p95 <= 150 ms per batch of 10.
2. Annotation on its own: analysis.core.annotate.annotate (spaCy + ERRANT) per sentence pair.
3. --local: one batch of 10 with the shipped SmolLM2 model, one call per batch and one
   call per utterance (ANALYSIS_UTTERANCES_PER_CALL), seconds each.

The database is a throwaway SQLite file unless DATABASE_URL is set.

Figures (2026-12-02, a quiet machine: load average ~1 on the 2 cores; 100 batches, three
runs on SQLite, one on PostgreSQL):

    batch of 10, end to end, SQLite:               p50 45.6-46.4 ms, p95 54-59 ms
      inside analyse_utterances (model+ERRANT):    p50 24.6-25.2 ms
      the pipeline's own share:                    p50 20.5-20.9 ms, p95 28-30 ms
    batch of 10, end to end, PostgreSQL:           p50 62.4 ms, p95 83.4 ms
      the pipeline's own share:                    p50 37.2 ms (database round trips)
    annotation per utterance (one annotate call):  p50 4.4-5.6 ms
    annotation of 10 in one annotate_pairs call:   p50 14-25 ms

What got it under the target (from p50 64 ms on the same quiet machine): the analyser
annotates a batch's sentences in one spaCy pipe per language instead of one each; the
reply schema for a batch shape is built once; spaCy multiplies with numpy's BLAS instead
of blis (same annotations, 15 ms instead of 24 per parse of a batch); BLAS runs on one
thread per process (BLAS_THREADS), so its spinning threads do not compete with the rest.
Under heavy load (load average 6-10) the same pipeline measured p50 107-172 ms.

The same code on another machine of the same size the same day (idle before each run,
100 batches, three runs on SQLite, one on PostgreSQL), after the reply's JSON schema was
cached per class and the bench stopped polling the batch the moment it was queued:

    batch of 10, end to end, SQLite:               p50 59.2 / 60.0 / 66.6 ms, p95 65-90 ms
      inside analyse_utterances:                   p50 32.5-35.3 ms
      the pipeline's own share:                    p50 26.4-30.7 ms
    batch of 10, end to end, PostgreSQL:           p50 95.5 ms, p95 127.2 ms
    annotation per utterance:                      p50 5.6 ms (4.4-5.6 on the first machine)
    local model, a batch of 10:                    44.5 s one call per utterance (7 of 10
                                                   with errors), 17.1 s one call for all
                                                   ten (1 of 10: it misses most mistakes)

There p50 <= 50 ms is missed (p95 <= 150 ms is met): every part is slower, the analyser
included, and runs differ by up to 15 ms (47 and 60 ms back to back). In-process, the
analyser takes 24.7 ms a batch; a profile of it (cProfile, 20 batches): spaCy 67% of it,
a third of that in the attribute ruler, ERRANT's alignment 10%.

A third machine of the same size, 2026-12-02, idle (100 batches, three runs on each database;
the first PostgreSQL run was against a cold server):

    batch of 10, end to end, SQLite:               p50 40.0 / 39.0 / 33.0 ms, p95 43-52 ms
      inside analyse_utterances:                   p50 18.6-22.4 ms
      the pipeline's own share:                    p50 13.9-17.2 ms
    batch of 10, end to end, PostgreSQL:           p50 73.3 / 47.1 / 45.4 ms, p95 59-99 ms
      the pipeline's own share:                    p50 23.7-25.3 ms
    annotation per utterance:                      p50 2.6-5.1 ms
    annotation of 10 in one annotate_pairs call:   p50 13-28 ms

Both targets are met there on both databases once PostgreSQL is warm. spaCy per 20 texts:
tok2vec 4.5 ms, parser 2.3 ms, attribute ruler 2.7 ms, the whole pipe 11.7 ms.
Local model, 2026-12-03, idle: a batch of 10 in 39.6 s one call per utterance (7 of 10 with
errors), 17.8 s one call for all ten (1 of 10).
"""

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the repository root is on the path only now)

SENTENCES = [
    (
        "Yesterday I go to the cinema with my friend.",
        "Yesterday I went to the cinema with my friend.",
    ),
    ("She have two brother.", "She has two brothers."),
    ("I am interesting in football.", "I am interested in football."),
    ("We arrived to the airport late.", "We arrived at the airport late."),
    ("He don't like apples.", "He doesn't like apples."),
    ("I buyed a new phone last week.", "I bought a new phone last week."),
    ("There is many people here.", "There are many people here."),
    ("I like very much pizza.", "I like pizza very much."),
    ("My freind is a doctor.", "My friend is a doctor."),
    ("I live in London since 2019.", "I have lived in London since 2019."),
]


def setup_django() -> None:
    common.setup_django("analysis", LLM_PROVIDER="scripted")
    from django.conf import settings

    settings.ANALYSIS_UTTERANCES_PER_CALL = 10  # one model call per batch


def batch_reply() -> str:
    return json.dumps(
        {
            "replies": [
                {
                    "corrected": corrected,
                    "mistakes": [],
                    "level": "B1",
                    "topics": ["daily life"],
                    "priority": 3,
                }
                for _, corrected in SENTENCES
            ]
        }
    )


def learner():
    return common.learner(f"bench{time.monotonic_ns()}")


def post_ten(user, conversation):
    """The learner's ten messages, the tutor's replies finished at once (no model)."""
    from conversations import services
    from conversations.models import Message

    for original, _ in SENTENCES:
        if conversation is None:
            conversation = services.conversation_create(owner=user, text=original)
        else:
            services.message_post(conversation=conversation, author=user, text=original)
        Message.objects.filter(conversation=conversation, status="pending").update(
            status="complete", content="Tell me more."
        )
    return conversation


ANALYSER_MS: list[float] = []


def timed_analyser() -> None:
    """Record the time inside the batch's analysis pass (analysis.marks.model_pass: the
    detectors, the scripted model, ERRANT annotation and the gate), so the pipeline's own
    share (queue, claim, context, storing) shows apart from it."""
    from analysis import marks

    real = marks.model_pass

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            ANALYSER_MS.append((time.perf_counter() - started) * 1000)

    marks.model_pass = timed


class NoQueue:
    def enqueue(self, *args, **kwargs) -> None:
        pass


def pipeline_overhead(batches: int) -> list[float]:
    from analysis.models import AnalysisBatch
    from conversations.models import Message
    from core import jobs
    from llm.providers.scripted import SCRIPT
    from ops.management.commands.db_worker import ConcurrentWorker

    # The tutor's replies are not what is measured: they are not queued, and are finished
    # at once (post_ten), so only the analysis uses the worker and the scripted model.
    jobs.kind_of(Message).task = NoQueue()
    # As `serve` runs it: woken when a task is queued, polling at WORKER_POLL_INTERVAL.
    worker = ConcurrentWorker.for_all_queues(threads=4, worker_id="bench")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    user, conversation, times = learner(), None, []
    # One warm-up batch: spaCy and ERRANT load on first use.
    for n in range(batches + 1):
        SCRIPT.queue(batch_reply())
        conversation = post_ten(user, conversation)
        batch = AnalysisBatch.objects.filter(conversation=conversation).order_by("-id").first()
        # The figures come from the rows' timestamps; polling at once, or often, would
        # compete with the worker for the GIL and the database.
        time.sleep(0.1)
        while not AnalysisBatch.objects.filter(pk=batch.pk, status="done").exists():
            if AnalysisBatch.objects.filter(pk=batch.pk, status="failed").exists():
                raise SystemExit(f"batch failed: {AnalysisBatch.objects.get(pk=batch.pk).error}")
            time.sleep(0.1)
        batch.refresh_from_db()
        if n:
            times.append((batch.finished_at - batch.created_at).total_seconds() * 1000)
    worker.running = False
    thread.join(timeout=10)
    return times


def annotation_cost() -> list[float]:
    from analysis.core import annotate

    annotate.annotate(*SENTENCES[0], language="en")  # load the models
    per_pair = []
    for _ in range(5):
        for original, corrected in SENTENCES:
            started = time.perf_counter()
            annotate.annotate(original, corrected, language="en")
            per_pair.append((time.perf_counter() - started) * 1000)
    return per_pair


def annotation_batched() -> list[float]:
    from analysis.core import annotate

    per_batch = []
    for _ in range(5):
        started = time.perf_counter()
        annotate.annotate_pairs(SENTENCES, language="en")
        per_batch.append((time.perf_counter() - started) * 1000)
    return per_batch


def local_batch(count: int) -> None:
    """Print as each mode finishes: under load the small model can take minutes."""
    from django.conf import settings

    from analysis.analyser import analyse_utterances
    from analysis.core.schemas import UtteranceIn

    settings.LLM_PROVIDER = "local"
    texts = [t for t, _ in SENTENCES[:count]]
    utterances = [UtteranceIn(key=str(n), text=t) for n, t in enumerate(texts)]
    for per_call in (1, count):
        settings.ANALYSIS_UTTERANCES_PER_CALL = per_call
        started = time.perf_counter()
        try:
            results = analyse_utterances(utterances)
            outcome = f"{sum(r.has_errors for r in results)} of {count} with errors"
        except Exception as exc:  # a weak model may not validate: say so, keep the time
            outcome = exc.__class__.__name__
        seconds = time.perf_counter() - started
        print(
            f"local model, {count} utterances, {per_call} per call: {seconds:.1f} s "
            f"({seconds / count:.2f} s per utterance; {outcome})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--only-local", action="store_true")
    parser.add_argument("--local", action="store_true", help="also time the local model")
    parser.add_argument("--local-utterances", type=int, default=10)
    args = parser.parse_args()
    setup_django()
    if args.only_local:
        return local_batch(args.local_utterances)
    timed_analyser()
    times = pipeline_overhead(args.batches)
    inside = ANALYSER_MS[1:]  # without the warm-up batch
    rest = [total - a for total, a in zip(times, inside, strict=True)]
    print(
        f"batch of 10, end to end (scripted model, {len(times)} batches): "
        f"p50 {statistics.median(times):.1f} ms, p95 {common.percentile(times, 95):.1f} ms, "
        f"max {max(times):.1f} ms  (target p50 <= 50, p95 <= 150)"
    )
    print(
        f"  inside the analysis pass (detectors, model, annotation): p50 "
        f"{statistics.median(inside):.1f}"
        f" ms, p95 {common.percentile(inside, 95):.1f} ms"
    )
    print(
        f"  the pipeline's own share (queue, claim, context, store): p50 "
        f"{statistics.median(rest):.1f} ms, p95 {common.percentile(rest, 95):.1f} ms"
    )
    pairs = annotation_cost()
    print(
        f"annotation per utterance (spaCy + ERRANT, {len(pairs)} pairs): "
        f"p50 {statistics.median(pairs):.1f} ms, p95 {common.percentile(pairs, 95):.1f} ms"
    )
    batched = annotation_batched()
    print(
        f"annotation of a batch of 10 in one annotate_pairs call (one spaCy pipe): "
        f"p50 {statistics.median(batched):.1f} ms"
    )
    if args.local:
        local_batch(args.local_utterances)


if __name__ == "__main__":
    main()
