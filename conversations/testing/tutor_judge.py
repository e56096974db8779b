"""The tutor evaluation's second scorer: the `tutor_judge` task profile, asked through the
gateway's structured output about each recorded reply, on the same rubric as the rules
(conversations/testing/tutor_eval.py), and how often the two agree.

The judge sees the learner's turn, the gold correction (or that there is none), the reply
and the text of the notes it cites. A judge that gives no valid verdict (invalid output,
a timeout, an unreachable endpoint) leaves the reply "not judged": a small model fails
often, and one failure must not cost the rest of the run.
"""

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

import llm
from conversations.testing.tutor_eval import Scored
from grammar import notes
from llm.prompts import render

PROFILE = "tutor_judge"
USER_TEMPLATE = Path(__file__).resolve().parent.parent / "prompts" / "tutor_judge_user.txt"
CRITERIA = ("on_topic", "false_grammar_claim", "correction_right", "supported")
SOURCE_CHARS = 900  # per cited note: a small model's context holds a few of them

Problem = Annotated[str, Field(min_length=1, max_length=160)]


class TutorVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    on_topic: bool
    false_grammar_claim: bool
    correction_right: Literal["yes", "no", "no correction"]
    supported: Literal["yes", "no", "not grounded"]
    problems: list[Problem] = Field(default_factory=list, max_length=4)


@dataclass
class Judgement:
    verdict: TutorVerdict | None
    failure: str = ""  # why there is no verdict: invalid output, timeout, ...
    seconds: float = 0.0

    def labels(self) -> dict[str, str] | None:
        if self.verdict is None:
            return None
        found = self.verdict.model_dump()
        return {name: _label(found[name]) for name in CRITERIA}


def judge(scored: Scored, variables: dict[str, str] | None = None) -> Judgement:
    """The judge's verdict on one recorded reply. `variables` fill the system prompt (the
    learner's level and languages); no user is charged: the evaluation is not theirs."""
    started = time.perf_counter()
    messages = [{"role": "user", "content": user_prompt(scored)}]
    try:
        verdict = llm.structured(PROFILE, messages, schema=TutorVerdict, variables=variables)
    except llm.errors.LLMError as exc:
        return Judgement(None, _failure(exc), time.perf_counter() - started)
    return Judgement(verdict, "", time.perf_counter() - started)


def _failure(exc: llm.errors.LLMError) -> str:
    if isinstance(exc, llm.errors.StructuredOutputError):
        return "invalid output"
    if isinstance(exc, llm.errors.ModelTimeout):
        return "timeout"
    return exc.__class__.__name__


def user_prompt(scored: Scored) -> str:
    return render(
        USER_TEMPLATE.read_text(encoding="utf-8").strip(),
        {
            "learner": scored.turn.text,
            "mistake": _mistake_line(scored),
            "reply": scored.reply,
            "sources": _sources(scored.reply, scored.citations),
        },
    )


def _mistake_line(scored: Scored) -> str:
    turn = scored.turn
    if turn.gold:
        return f"The learner's sentence has a mistake. Its right version: {turn.gold}"
    if turn.kind in ("mistake", "chat"):
        return "The learner's sentence is correct: there is nothing to correct."
    return "The learner asked a question or made a request: there is no sentence to correct."


def _sources(reply: str, citations: list[dict]) -> str:
    blocks = [
        f"<<<SOURCE {c['n']}>>>\n{_source_text(reply, c)[:SOURCE_CHARS]}\n<<<END SOURCE {c['n']}>>>"
        for c in citations
    ]
    return "\n".join(blocks) or "none: the reply cites no sources."


def _source_text(reply: str, citation: dict) -> str:
    """A cited note in the language the reply quotes it in (else every language); any
    other source by its snippet."""
    found = notes.library().by_id.get(citation.get("note_id") or "")
    if found is None:
        return citation.get("snippet") or citation.get("title") or ""
    languages = [lang for lang, t in found.texts.items() if t["title"] in reply] or list(
        found.texts
    )
    fields = [found.texts[lang][k] for lang in languages for k in notes.TEXT_FIELDS]
    wrong, right = found.example
    return "\n".join([*fields, f"Example: {wrong} -> {right}"])


# -- the rules' verdicts on the same criteria -------------------------------------------


def rule_labels(scored: Scored) -> dict[str, str | None]:
    """The rule layer's answer per criterion, in the judge's words; None where the rules
    cannot tell (a correction shown for a question: there is no gold to check it by)."""
    return {
        "on_topic": _label(scored.on_topic),
        "false_grammar_claim": _label(bool(scored.false_claims)),
        "correction_right": _rule_correction(scored),
        "supported": _rule_supported(scored),
    }


def _rule_correction(scored: Scored) -> str | None:
    if not scored.correction:
        return "no correction"
    # "partial": every change made is the gold's; a mistake left unmarked is not a wrong one.
    return {"right": "yes", "partial": "yes", "wrong": "no"}.get(scored.correction_verdict)


def _rule_supported(scored: Scored) -> str:
    if scored.grounded is None:
        return "not grounded"
    return "yes" if scored.grounded.unsupported == 0 else "no"


def _label(value: bool | str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


# -- figures -----------------------------------------------------------------------------


@dataclass
class Criterion:
    name: str
    rules: Counter  # label -> replies, over every reply the rules could tell
    judge: Counter  # label -> replies, over the judged ones
    agree: int
    compared: int  # judged replies the rules could tell

    @property
    def agreement(self) -> float:
        return self.agree / self.compared if self.compared else 0.0


@dataclass
class JudgeFigures:
    turns: int
    judged: int
    not_judged: Counter  # why -> replies
    criteria: list[Criterion]


def figures(scored: list[Scored], judgements: list[Judgement]) -> JudgeFigures:
    rules = [rule_labels(s) for s in scored]
    judged = [j.labels() for j in judgements]
    return JudgeFigures(
        turns=len(scored),
        judged=sum(1 for j in judged if j is not None),
        not_judged=Counter(j.failure for j in judgements if j.verdict is None),
        criteria=[_criterion(name, rules, judged) for name in CRITERIA],
    )


def _criterion(name: str, rules: list[dict], judged: list[dict | None]) -> Criterion:
    pairs = [(r[name], j[name]) for r, j in zip(rules, judged, strict=True) if j is not None]
    compared = [(r, j) for r, j in pairs if r is not None]
    return Criterion(
        name=name,
        rules=Counter(r[name] for r in rules if r[name] is not None),
        judge=Counter(j for _, j in pairs),
        agree=sum(1 for r, j in compared if r == j),
        compared=len(compared),
    )
