"""Play the tutor evaluation's learner turns through the tutor and print the figures.

python manage.py tutor_eval                    # the configured model (the built-in one)
python manage.py tutor_eval --model scripted   # the scripted stand-in (what the suite runs)
python manage.py tutor_eval --style free       # every task generated freely, notes as grounding
python manage.py tutor_eval --no-judge         # the rules only

Every reply is scored by the rules and, unless --no-judge, by the `tutor_judge` task
profile (conversations/testing/tutor_judge.py), with the agreement of the two per
criterion. With --model scripted the judge answers its schema's example: that run checks
the plumbing, it measures no judge.

Runs on a scratch test database (created and dropped) unless --in-place (the tests).
See conversations/testing/tutor_eval.py for the rules.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases

import llm
from accounts.services import learner_sign_up
from conversations.testing import tutor_eval, tutor_judge
from llm.prompts import learner_variables
from llm.providers.scripted import SCRIPT

PRACTICE_SCRIPTED = "1. Yesterday I ___ (go) to the shops.\n2. She ___ (buy) a coat last week."


class Command(BaseCommand):
    help = "Play the tutor evaluation's learner turns through the tutor and score the replies."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--model",
            default="configured",
            choices=["configured", "scripted"],
            help="configured: the task profiles as set up (default: the built-in model)",
        )
        parser.add_argument("--style", default="auto", choices=["auto", "guided", "free"])
        parser.add_argument("--turns", type=Path, default=tutor_eval.TURNS)
        parser.add_argument("--limit", type=int, default=0, help="only the first N turns")
        parser.add_argument("--show", type=int, default=5, help="print this many replies")
        parser.add_argument("--out", type=Path, help="write every reply and its scores here (JSON)")
        parser.add_argument("--in-place", action="store_true", help="use the current database")
        parser.add_argument(
            "--judge",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="also ask the tutor_judge profile about every reply (default: yes)",
        )

    def handle(self, *args, model, style, turns, limit, show, out, in_place, judge, **options):
        if not turns.exists():
            raise CommandError(f"No turns file at {turns}")
        overrides = {}
        if model == "scripted":
            overrides.update(LLM_PROVIDER="scripted", LLM_SCRIPT_FILE="")
        if style != "auto":
            overrides["TUTOR_STYLE_BY_PROFILE"] = {"chat": style, "doubt_solver": style}
        with override_settings(**overrides):
            if in_place:
                scored, judged = self._run(turns, limit, model, judge)
            else:
                scored, judged = self._scratch(turns, limit, model, judge)
        self._report(scored, show, model, style)
        if judged:
            self._report_judge(scored, *judged)
        if out:
            out.write_text(_dump(scored, judged[0] if judged else None), encoding="utf-8")

    def _scratch(self, turns, limit, model, judge):
        scratch = tempfile.mkdtemp(prefix="tutor-eval-")
        if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
            settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{scratch}/eval.sqlite3"
        old = setup_databases(verbosity=0, interactive=False)
        try:
            return self._run(turns, limit, model, judge)
        finally:
            teardown_databases(old, verbosity=0)

    def _run(self, path, limit, model, judge):
        """The scored replies, and (the judgements, the judge's model) when asked."""
        owner, scored = self._play(path, limit, model)
        if not judge:
            return scored, None
        return scored, (self._judge(owner, scored), llm.model_info(tutor_judge.PROFILE))

    def _judge(self, owner, scored) -> list[tutor_judge.Judgement]:
        variables = learner_variables(owner)
        judgements = []
        for result in scored:
            judgement = tutor_judge.judge(result, variables)
            judgements.append(judgement)
            outcome = judgement.failure or "judged"
            line = f"{judgement.seconds:5.1f} s  judge: {outcome:14} {result.turn.text[:50]}"
            self.stderr.write(f"  {line}")
        return judgements

    def _play(self, path, limit, model):
        owner = learner_sign_up(
            username=f"tutor-eval-{int(time.time() * 1000)}",
            password="a-long-evaluation-passphrase",  # noqa: S106 (a scratch learner)
            email="tutor-eval@example.com",
            native_language="ko",
            target_language="en",
            level="B1",
        )
        scored = []
        for turn in tutor_eval.turns(path)[: limit or None]:
            if model == "scripted":
                default = PRACTICE_SCRIPTED if turn.kind == "practice" else None
                SCRIPT.set_default(
                    text=turn.scripted or default or tutor_eval.DEFAULT_SCRIPTED, chunk_size=8
                )
            started = time.perf_counter()
            reply, opening = tutor_eval.play(owner, turn)
            result = tutor_eval.score(turn, reply, opening)
            result.seconds = time.perf_counter() - started
            scored.append(result)
            self.stderr.write(f"  {result.seconds:5.1f} s  {turn.kind:9} {turn.text[:60]}")
        if model == "scripted":
            SCRIPT.reset()
        return owner, scored

    def _report(self, scored, show, model, style) -> None:
        found = tutor_eval.figures(scored)
        out = self.stdout
        out.write(f"tutor evaluation: {found.turns} turns, model {model}, style {style}")
        out.write(f"  on topic: {found.on_topic:.1%}")
        for kind, (good, total) in sorted(found.by_kind.items()):
            out.write(f"    {kind:9} {good}/{total}")
        out.write(
            f"  replies with a false grammar claim: {found.false_claim_replies}/{found.turns} "
            f"({found.false_claim_share:.1%})"
        )
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(found.corrections.items()))
        out.write(f"  corrections (chat turns, against the gold): {verdicts}")
        out.write(
            f"  notes answers, sentences supported by a cited note: {found.grounded_share:.1%}"
        )
        seconds = sorted(s.seconds for s in scored)
        out.write(
            f"  seconds per turn: median {seconds[len(seconds) // 2]:.1f}, max {seconds[-1]:.1f}"
        )
        for result in _samples(scored, show):
            out.write(f"\n  [{result.turn.kind}] learner: {result.turn.text}")
            out.write("  tutor: " + result.reply.replace("\n", "\n         "))
            if result.false_claims:
                out.write(f"  FALSE CLAIMS: {result.false_claims}")

    def _report_judge(self, scored, judgements, model) -> None:
        found = tutor_judge.figures(scored, judgements)
        out = self.stdout
        failures = ", ".join(f"{why} {n}" for why, n in found.not_judged.most_common())
        out.write(
            f"\njudge: profile {tutor_judge.PROFILE}, {model.provider} {model.model}: "
            f"{found.judged}/{found.turns} replies judged"
            + (f"; not judged {found.turns - found.judged} ({failures})" if failures else "")
        )
        out.write(f"  {'criterion':20} {'rules':34} {'judge':34} agreement")
        for criterion in found.criteria:
            agree = (
                f"{criterion.agree}/{criterion.compared} ({criterion.agreement:.1%})"
                if criterion.compared
                else "-"
            )
            out.write(
                f"  {LABELS[criterion.name]:20} {_counts(criterion.rules):34} "
                f"{_counts(criterion.judge):34} {agree}"
            )
        seconds = sorted(j.seconds for j in judgements)
        out.write(
            f"  judge seconds per reply: median {seconds[len(seconds) // 2]:.1f}, "
            f"max {seconds[-1]:.1f}"
        )


LABELS = {
    "on_topic": "on topic",
    "false_grammar_claim": "false grammar claim",
    "correction_right": "correction right",
    "supported": "grounded, supported",
}


def _counts(counts) -> str:
    return ", ".join(f"{label} {n}" for label, n in sorted(counts.items())) or "-"


def _samples(scored, n):
    """One reply of each kind first, then the rest in order."""
    firsts, seen = [], set()
    for result in scored:
        if result.turn.kind not in seen:
            seen.add(result.turn.kind)
            firsts.append(result)
    return (firsts + [r for r in scored if r not in firsts])[:n]


def _dump(scored, judgements=None) -> str:
    judgements = judgements or [None] * len(scored)
    return json.dumps(
        [
            {
                "kind": s.turn.kind,
                "learner": s.turn.text,
                "reply": s.reply,
                "on_topic": s.on_topic,
                "false_claims": s.false_claims,
                "correction": s.correction,
                "correction_verdict": s.correction_verdict,
                "seconds": round(s.seconds, 2),
                "rules": tutor_judge.rule_labels(s),
                **_judged(j),
            }
            for s, j in zip(scored, judgements, strict=True)
        ],
        indent=1,
        ensure_ascii=False,
    )


def _judged(judgement) -> dict:
    if judgement is None:
        return {}
    verdict = judgement.verdict.model_dump() if judgement.verdict else None
    return {
        "judge": verdict,
        "judge_failure": judgement.failure,
        "judge_seconds": round(judgement.seconds, 2),
    }
