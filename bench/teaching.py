"""The teaching pipeline's own cost, and what the local model makes of it.

    .venv/bin/python bench/teaching.py [--runs 20] [--local]

Scripted (default): the whole pipeline (filter, focus selection, generation, validation
with ERRANT and lingua, purge) for a conversation of 50 analysed learner messages, run
in-process on the shared job mechanism with the scripted model answering at once, so
what is measured is the pipeline's overhead: p50/p95 seconds per run (the first, cold
run — spaCy and lingua loading — is shown apart) and database queries per module.

--local: one run with the local model (SmolLM2-135M through llama.cpp): seconds per
validated module and the share of generated modules that passed validation.

The database is a throwaway SQLite file unless DATABASE_URL is set.

Figures (2 shared CPUs under other engineers' load, load average 7-9, SQLite, 20 runs):

    scripted: cold first run 3.8-7.0 s; pipeline p50 0.30-0.37 s, p95 0.39-0.60 s;
              144-146 queries per run (its purge in every other run), 47.8-48.7 per module
              (the same for 5 and 25 messages: teaching/tests/test_runs.py); 60 of 60 validated
    local:    one run, --max-focuses 1: 0 of 1 validated. At 0.7-1.4 tokens/s on this
              loaded machine the module's JSON (1018 tokens) took 1425 s and parsed; it broke
              a structural rule, and the repair (1666 tokens, cut by max_tokens) did not
              parse after the gateway's own repair; JOB_MAX_SECONDS (1800 s) had failed
              the run meanwhile (the model call itself ended at ~2510 s).

Idle machine, 2026-12-03, 20 runs: SQLite cold first run 1.55 s, pipeline p50 0.081 s,
p95 0.105 s; PostgreSQL 15 cold 1.39 s, p50 0.145 s, p95 0.202 s; both 146 queries per run
(48.7 per module) and 60 of 60 validated. Local, --max-focuses 3: 75.4 s for the run's one
module, rejected for the same four reasons as below.

Local model on an idle machine of the same size (2026-12-02, --max-focuses 3): the focus
stage chose 1 focus; its module took 107.3 s for the whole run (focus selection,
generation with its repair, the judge) and was rejected, so 0 of 1 validated and no
seconds per validated module to give. The report named four failures, each real: the
fill-in problems had no single ___ blank with a short answer, the explanation was in
Spanish (the learner's native language) rather than English, ERRANT typed the module's
correction as `other` instead of the focus's family, and the judge scored correctness 1
and clarity 2 of 5. SmolLM2-135M writes well-formed modules (the constrained JSON parses)
but not correct ones; the validator keeps them from learners, as designed, and a larger
model on the module_generation profile is what raises the validated share.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="teaching-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def queue_scripted_run(index: int) -> None:
    from django.conf import settings

    from llm.providers.scripted import SCRIPT
    from teaching.tests.analysed import scripted_module

    SCRIPT.queue({"focuses": [{"group": n, "reason": "It comes up often."} for n in (1, 2, 3)]})
    families = ("verb_tense", "subject_verb_agreement", "determiner")
    for n, family in enumerate(families[: settings.TEACHING_MAX_FOCUSES], 1):
        # A new title each run: the same learner already has the earlier runs' lessons.
        title = f"Lesson {index}.{n}: {family.replace('_', ' ')}"
        SCRIPT.queue(scripted_module(family, title))
    score = {"correctness": 4, "clarity": 4, "level_fit": 4, "pedagogy": 4}
    for _ in range(settings.TEACHING_MAX_FOCUSES):
        SCRIPT.queue({"scores": score, "verdict": "validated", "problems": []})


def one_run(user, *, keep_raw: bool = True):
    """(seconds, queries, modules, validated) for one conversation's whole pipeline."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ops import jobs
    from teaching.models import Module, TeachingRun
    from teaching.pipeline import advance
    from teaching.services import run_for_conversation
    from teaching.tests.analysed import analysed_conversation

    conversation = analysed_conversation(user, keep_raw=keep_raw)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = run_for_conversation(conversation.pk)
        jobs.run(TeachingRun, run.pk, work=advance)
        elapsed = time.perf_counter() - started
    modules = Module.objects.filter(run_id=run.pk)
    run.refresh_from_db()
    if run.status != "done":
        print(f"  the run ended {run.status} at stage {run.stage}: {run.error}")
    return elapsed, len(queries), modules.count(), modules.filter(status="validated").count()


def bench_scripted(user, runs: int) -> None:
    from django.conf import settings

    from llm.providers.scripted import SCRIPT

    settings.LLM_PROVIDER = "scripted"
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    results = []
    for index in range(runs + 1):
        SCRIPT.reset()
        queue_scripted_run(index)
        results.append(one_run(user, keep_raw=index % 2 == 0))
    cold, warm = results[0], results[1:]
    times = [r[0] for r in warm]
    per_module = [r[1] / r[2] for r in warm]
    print(f"scripted model, 50 analysed messages, 3 modules per run, {runs} runs")
    print(f"  cold first run        {cold[0]:.3f} s (loads spaCy/ERRANT and lingua)")
    print(
        f"  pipeline p50 / p95    {statistics.median(times):.3f} s / {percentile(times, 95):.3f} s"
    )
    print(f"  queries per run       {statistics.median([r[1] for r in warm]):.0f}")
    print(f"  queries per module    {statistics.median(per_module):.1f}")
    print(f"  validated             {sum(r[3] for r in warm)} of {sum(r[2] for r in warm)}")


def bench_local(user) -> None:
    from django.conf import settings

    settings.LLM_PROVIDER = "local"
    seconds, _, modules, validated = one_run(user)
    print("local model (SmolLM2-135M), one run of 50 analysed messages")
    print(f"  run                   {seconds:.1f} s for {modules} modules")
    share = validated / modules if modules else 0.0
    print(f"  validated             {validated} of {modules} ({share:.0%})")
    if validated:
        print(f"  seconds per validated {seconds / validated:.1f} s")
    else:
        print("  seconds per validated n/a (none validated)")
    from teaching.models import ValidationReport

    for report in ValidationReport.objects.filter(module__run__conversation__owner=user):
        print(
            f"  module {report.module_id}: {'pass' if report.passed else 'fail'} "
            f"{'; '.join(report.reasons)[:300]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--local", action="store_true")
    parser.add_argument("--max-focuses", type=int, default=3, help="modules per run")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    settings.TEACHING_MAX_FOCUSES = args.max_focuses
    from accounts.services import learner_sign_up

    user = learner_sign_up(
        username=f"bench{os.getpid()}",
        password="x" * 12,
        native_language="es",
        target_language="en",
        level="B1",
    )
    if args.local:
        bench_local(user)
    else:
        bench_scripted(user, args.runs)


if __name__ == "__main__":
    main()
