"""The analysis of learner utterances: the model corrects, ERRANT derives the edits.

Each part comes from what does it best: the model (through the `analysis` task profile)
writes the corrected sentence, short explanations, a level, topics and a priority;
ERRANT (analysis.core.annotate) turns original vs corrected into exact spans and consistent
types. Rule checks keep a small model's wild rewrites from reaching the learner as
"mistakes": a learner told that a correct sentence is wrong stops trusting the tutor.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from django.conf import settings
from pydantic import BaseModel, Field, ValidationError, create_model

import llm
from analysis.core import annotate, explanations, taxonomy
from analysis.core.schemas import Edit, UtteranceAnalysis, UtteranceIn

PROFILE = "analysis"
PROMPTS = Path(__file__).resolve().parent / "prompts"
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "ko": "Korean", "fr": "French", "de": "German"}

# Plausibility of a correction (FIELD-NOTES measured: rejecting replies that change more
# than a quarter of the tokens or the length by more than 40% doubled precision).
MAX_LENGTH_CHANGE = 0.4
MAX_CHANGED_TOKENS = 0.25
CHANGED_TOKENS_ALLOWANCE = 2  # short sentences may need two fixes ("She have two brother.")
MAX_CONTEXT_CHARS = 200


class AnalysisInvalid(Exception):
    """The model's output did not validate against the analysis schema."""


# -- what the model is asked for -------------------------------------------------------


class Mistake(BaseModel):
    wrong: str = Field(max_length=40)
    right: str = Field(max_length=40)
    type: Literal[taxonomy.TAXONOMY]  # type: ignore[valid-type]
    explanation: str = Field(max_length=120)


def _reply_schema(texts: Sequence[str]) -> type[BaseModel]:
    """The reply's schema for these sentences: limits on every string and list keep a
    small model's constrained decoding from repeating itself until max_tokens."""
    longest = max(len(t) for t in texts)
    return _schema_for(len(texts), -(-longest // SCHEMA_LENGTH_STEP) * SCHEMA_LENGTH_STEP)


# Building a pydantic model costs milliseconds, a tenth of a batch's whole pipeline. Keyed
# on the longest sentence rounded up to this step, the few shapes real chats have are built
# once, and the limit on a correction stays within a step of its sentence's.
SCHEMA_LENGTH_STEP = 16


@lru_cache(maxsize=256)
def _schema_for(count: int, longest: int) -> type[BaseModel]:
    item = create_model(
        "SentenceAnalysis",
        corrected=(str, Field(max_length=int(longest * (1 + MAX_LENGTH_CHANGE)) + 10)),
        mistakes=(list[Mistake], Field(max_length=3)),
        level=(Literal[LEVELS], ...),  # type: ignore[valid-type]
        topics=(list[Annotated[str, Field(max_length=20)]], Field(max_length=3)),
        priority=(int, Field(ge=1, le=5)),
    )
    if count == 1:
        return item
    return create_model(
        "BatchAnalysis", replies=(list[item], Field(min_length=count, max_length=count))
    )


@cache
def _example() -> dict:
    return json.loads((PROMPTS / "analysis_example.json").read_text(encoding="utf-8"))


def _sentences_message(utterances: Sequence[UtteranceIn]) -> str:
    context = utterances[0].context
    lines = []
    if context:
        lines.append("Earlier in the conversation (do not correct):")
        lines += [f"{c.speaker or c.role}: {c.text[:MAX_CONTEXT_CHARS]}" for c in context]
        lines.append("")
    if len(utterances) == 1:
        lines.append(f"Sentence: {utterances[0].text}")
    else:
        lines.append("Sentences:")
        lines += [f"{n}. {u.text}" for n, u in enumerate(utterances, 1)]
    return "\n".join(lines)


def _messages(utterances: Sequence[UtteranceIn]) -> list[dict[str, str]]:
    """One worked example (a sentence with a mistake and, for batches, one without), then
    the real sentences. The system prompt comes from the profile."""
    example = _example()
    count = 1 if len(utterances) == 1 else len(example["sentences"])
    shown = [UtteranceIn(key=str(n), text=t) for n, t in enumerate(example["sentences"][:count])]
    answer = example["replies"][0] if count == 1 else {"replies": example["replies"]}
    return [
        {"role": "user", "content": _sentences_message(shown)},
        {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)},
        {"role": "user", "content": _sentences_message(utterances)},
    ]


# -- the public entry point ------------------------------------------------------------


def analyse_utterances(
    utterances: Sequence[UtteranceIn],
    *,
    user=None,
    learner_level: str = "",
    target_language: str = "en",
) -> list[UtteranceAnalysis]:
    """One analysis per utterance, in order. Raises AnalysisInvalid when the model's
    output does not validate (after the gateway's one repair attempt)."""
    per_call = settings.ANALYSIS_UTTERANCES_PER_CALL
    variables = _variables(learner_level, target_language)
    replies: list[BaseModel] = []
    for i in range(0, len(utterances), per_call):
        replies += _ask_model(list(utterances[i : i + per_call]), user=user, variables=variables)
    return analyses_from_replies(utterances, replies, target_language=target_language)


# Asking again after an invalid reply: the sentence alone, this instruction added, and a
# temperature above the profile's (the gateway then skips its cache), so the second try
# is a new sample and not the same failure again.
RETRY_TEMPERATURE = 0.7
RETRY_INSTRUCTION = (
    "Answer for this one sentence only: one JSON object with the fields asked for. Keep "
    "every string on one line, in plain words, without line breaks or tabs."
)


def analyse_again(
    utterance: UtteranceIn,
    *,
    user=None,
    learner_level: str = "",
    target_language: str = "en",
    temperature: float = RETRY_TEMPERATURE,
) -> UtteranceAnalysis:
    """A second try for one utterance whose analysis failed; raises AnalysisInvalid
    when this reply does not validate either."""
    messages = _messages([utterance])
    messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{RETRY_INSTRUCTION}"}
    try:
        reply = llm.structured(
            PROFILE,
            messages,
            schema=_reply_schema([utterance.text]),
            user=user,
            variables=_variables(learner_level, target_language),
            temperature=temperature,
        )
    except llm.errors.StructuredOutputError as exc:
        raise AnalysisInvalid(exc.detail or str(exc)) from exc
    return analyses_from_replies([utterance], [reply], target_language=target_language)[0]


def _variables(learner_level: str, target_language: str) -> dict:
    variables = {"learner_target_language": LANGUAGE_NAMES.get(target_language, target_language)}
    if learner_level:
        variables["learner_level"] = learner_level
    return variables


def _ask_model(chunk: list[UtteranceIn], *, user, variables: dict) -> list[BaseModel]:
    schema = _reply_schema([u.text for u in chunk])
    try:
        reply = llm.structured(
            PROFILE, _messages(chunk), schema=schema, user=user, variables=variables
        )
    except llm.errors.StructuredOutputError as exc:
        raise AnalysisInvalid(exc.detail or str(exc)) from exc
    return [reply] if len(chunk) == 1 else list(reply.replies)


def validate_reply(data: dict, texts: Sequence[str]) -> list[BaseModel]:
    """The model's reply (as data) checked against the schema for these sentences."""
    try:
        reply = _reply_schema(texts).model_validate(data)
    except ValidationError as exc:
        raise AnalysisInvalid(str(exc)) from exc
    return [reply] if len(texts) == 1 else list(reply.replies)


# -- from the model's reply to an analysis ---------------------------------------------


def analyses_from_replies(
    utterances: Sequence[UtteranceIn],
    replies: Sequence[BaseModel],
    *,
    target_language: str = "en",
) -> list[UtteranceAnalysis]:
    """Pure: the model's replies, checked and annotated. The changed sentences of each
    language go through spaCy in one pipe: parsing them one by one costs several times
    as much as the rest of a batch's pipeline."""
    texts = [u.text for u in utterances]
    languages = [annotate.detect_language(t, expected=target_language) for t in texts]
    corrected = [_proposed_correction(t, r) for t, r in zip(texts, replies, strict=True)]
    edits: list[tuple[Edit, ...]] = [() for _ in texts]
    for language in dict.fromkeys(languages):
        indexes = [i for i, lang in enumerate(languages) if lang == language]
        pairs = [(texts[i], corrected[i]) for i in indexes]
        found_edits = annotate.annotate_pairs(pairs, language=language)
        for i, found in zip(indexes, found_edits, strict=True):
            edits[i] = found
    return [
        _analysis(u, reply, language=lang, corrected=fixed, edits=found)
        for u, reply, lang, fixed, found in zip(
            utterances, replies, languages, corrected, edits, strict=True
        )
    ]


def _proposed_correction(text: str, reply: BaseModel) -> str:
    corrected = " ".join(reply.corrected.split()) or text
    return text if _same_text(corrected, text) else corrected


def _analysis(
    utterance: UtteranceIn,
    reply: BaseModel,
    *,
    language: str,
    corrected: str,
    edits: tuple[Edit, ...],
) -> UtteranceAnalysis:
    text = utterance.text
    note = ""
    if corrected != text:
        edits = tuple(e for e in edits if not _set_aside(e, text))
        note = implausible(text, corrected, edits)
        if note:
            corrected, edits = text, ()
        else:
            edits = _explained(edits, reply.mistakes)
            if not edits:
                corrected = text
    return UtteranceAnalysis(
        key=utterance.key,
        language=language,
        corrected=corrected,
        edits=edits,
        level=reply.level,
        topics=_topics(reply.topics, text),
        priority=reply.priority if edits else 1,
        note=note,
    )


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


# Words a small model adds to a sentence that lacked nothing ("I went to cinema" ->
# "Yesterday I went to the cinema"): adding content is rewriting, not correcting.
ADDED_CONTENT = frozenset({"M:NOUN", "M:ADJ", "M:ADV", "M:OTHER"})


def _set_aside(edit: Edit, text: str) -> bool:
    """Edits that are no mistake of the learner's: added content words, and a missing
    full stop at the very end of a chat message."""
    if edit.source_type in ADDED_CONTENT:
        return True
    return (
        edit.error_type == taxonomy.ErrorType.PUNCTUATION
        and not edit.original
        and edit.correction in {".", "!"}
        and edit.start >= len(text.rstrip())
    )


def implausible(original: str, corrected: str, edits: Sequence[Edit]) -> str:
    """Why `corrected` is not a plausible minimal correction of `original`, or ""."""
    change = abs(len(corrected) - len(original)) / max(1, len(original))
    if change > MAX_LENGTH_CHANGE:
        return f"correction rejected: length changed by {change:.0%}"
    tokens = annotate.token_count(original)
    changed = sum(_tokens_changed(e) for e in edits)
    allowed = max(CHANGED_TOKENS_ALLOWANCE, math.floor(MAX_CHANGED_TOKENS * tokens))
    if changed > allowed:
        return f"correction rejected: {changed} of {tokens} tokens changed"
    return ""


def _tokens_changed(edit: Edit) -> int:
    if edit.source_type.endswith("WO"):
        return 1  # a moved phrase is one mistake, whatever its length
    return max(
        len(edit.features.get("orig_tokens", ())), len(edit.features.get("corr_tokens", ())), 1
    )


def _explained(edits: tuple[Edit, ...], mistakes: Sequence[Mistake]) -> tuple[Edit, ...]:
    """Each edit with the model's explanation of the same mistake when it is usable
    (the templated one stays otherwise); a diff edit also takes the model's type."""
    unused = list(mistakes)
    out = []
    for edit in edits:
        mistake = _matching(edit, unused)
        if mistake is None:
            out.append(edit)
            continue
        unused.remove(mistake)
        changes = {}
        if usable_explanation(mistake.explanation, edit):
            changes["explanation"] = " ".join(mistake.explanation.split())
        if edit.source_type == "diff" and edit.error_type == taxonomy.ErrorType.OTHER:
            changes["error_type"] = mistake.type
            changes["explanation"] = changes.get("explanation") or explanations.templated(
                mistake.type, edit.original, edit.correction
            )
        out.append(replace(edit, **changes))
    return tuple(out)


def _matching(edit: Edit, mistakes: Sequence[Mistake]) -> Mistake | None:
    def norm(s: str) -> str:
        return " ".join(s.lower().split())

    o, c = norm(edit.original), norm(edit.correction)
    for m in mistakes:
        wrong, right = norm(m.wrong), norm(m.right)
        if (o and (o == wrong or o in wrong.split())) or (c and (c == right or c in right.split())):
            return m
    return None


def usable_explanation(explanation: str, edit: Edit) -> bool:
    """One whole line (not cut off by the length limit) of at least three words that
    names the edit's own words: "use the past tense gone" for "go -> went" is not."""
    text = " ".join(explanation.split())
    if len(text.split()) < 3 or len(text) > 160 or text[-1] not in '.!?)"”':
        return False
    named = edit.correction or edit.original
    if named.lower() not in text.lower():
        return False
    return text.lower() not in {edit.original.lower(), edit.correction.lower()}


def _topics(topics: Sequence[str], text: str) -> tuple[str, ...]:
    """Distinct topics, at most three. A small model copies the worked example's topics
    onto every sentence: those count only when the sentence itself names them."""
    copied = {t for reply in _example()["replies"] for t in reply["topics"]}
    seen: list[str] = []
    for topic in topics:
        t = " ".join(topic.lower().split()).strip(" .,;:")
        if t in copied and t not in text.lower():
            continue
        if t and t not in seen:
            seen.append(t)
    return tuple(seen[:3])
