"""Lessons built from the learner's own corrected sentences, with no model.

Every item comes from a real edit (the learner's sentence, its correction, ERRANT's typed
edit) and is verified with ERRANT before it is kept: the key put back in its gap leaves
no edit against the correction, each distractor put back leaves an edit of the focus's
family, options are distinct, and exactly one of them is right. The explanation, the
rule, the tip and the second worked example come from the grammar-notes library in the
learner's explanation language.

Pure: plain data in, a ModuleContent out. ERRANT is passed in (default: analysis's), so
the verification can be tested on its own.
"""

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from analysis.core.annotate import annotate_pairs, spellchecker
from grammar import notes as grammar
from teaching.core.rules import MAX_BLANK_CHARS, MAX_BLANK_WORDS, normalise
from teaching.core.schemas import BLANK, ModuleContent, Problem, WorkedExample

Annotate = Callable[[Sequence[tuple[str, str]]], list[tuple[Any, ...]]]

# The families whose lessons are built; others (vocabulary, "other") have no reliable
# distractors and are left to the model and the teachers.
BUILT_FAMILIES = frozenset(
    {
        "verb_tense",
        "verb_form",
        "subject_verb_agreement",
        "noun_number",
        "determiner",
        "preposition",
        "spelling",
        "word_order",
        "pronoun",
    }
)
NO_WORD = "(no word)"
# Six built, which leaves room in a lesson (eight) for what a model may add.
MAX_PROBLEMS, MIN_PROBLEMS = 6, 3
MAX_EXAMPLES = 4
MAX_SENTENCE_CHARS = 200
MAX_OPTION_CHARS = 60
_INFLECTED = frozenset({"verb_tense", "verb_form", "subject_verb_agreement"})
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
_DATA = Path(__file__).parent / "data" / "confusions.json"


@dataclass(frozen=True)
class Pair:
    """One of the learner's sentences with its correction and the edit the focus is about."""

    sentence: str
    corrected: str
    original: str = ""
    correction: str = ""


@dataclass
class Built:
    content: ModuleContent | None
    note_id: str = ""
    dropped: list[str] = field(default_factory=list)  # why items were not kept
    reason: str = ""  # why no lesson, when content is None


@dataclass(frozen=True)
class _Gap:
    """The corrected sentence with the focus's corrected words at [start, end)."""

    corrected: str
    start: int
    end: int
    key: str
    wrong: str
    edit: Any

    def put(self, text: str) -> str:
        return put_back(self.corrected, self.start, self.end, text)

    @property
    def prompt(self) -> str:
        return self.put(BLANK)


def put_back(sentence: str, start: int, end: int, text: str) -> str:
    """`sentence` with [start, end) replaced by `text`, spaces tidied."""
    left, right = sentence[:start], sentence[end:]
    if text and start == end and right[:1].isalnum():
        text += " "
    joined = re.sub(r"\s+", " ", f"{left}{text}{right}").strip()
    return re.sub(r" ([.,;:!?])", r"\1", joined)


# -- the public entry point --------------------------------------------------------------


def build(
    family: str,
    pairs: Sequence[Pair],
    *,
    explanation_language: str,
    annotate: Annotate | None = None,
) -> Built:
    """A lesson for the focus, or none (with the reason) when fewer than three items pass."""
    annotate = annotate or _errant
    if family not in BUILT_FAMILIES:
        return Built(None, reason=f"no built lessons for {family}")
    pairs = [p for p in pairs if p.sentence.strip() and len(p.sentence) <= MAX_SENTENCE_CHARS]
    forward = annotate([(p.sentence, p.corrected) for p in pairs]) if pairs else []
    found = [(p, _focus_edit(family, p, edits)) for p, edits in zip(pairs, forward, strict=True)]
    own = [(p, e) for p, e in found if e is not None]
    if not own:
        return Built(None, reason="ERRANT finds no edit of the family in the sentences")
    first_pair, first_edit = own[0]
    note = grammar.note_for(grammar.EditFacts.from_edit(first_edit), explanation_language)
    if note is None:
        return Built(None, reason="no grammar note for the edit")
    builder = _Builder(family, annotate, explanation_language)
    # The note's own example after the learner's sentences: practice on a sentence the
    # lesson does not show corrected at the top.
    example = _note_pair(note, family, annotate)
    seen = {normalise(p.sentence) for p, _ in own}
    extra = [example] if example and normalise(example[0].sentence) not in seen else []
    problems = _choose(builder.items([*own, *extra]))
    if len(problems) < MIN_PROBLEMS:
        return Built(
            None,
            note_id=note.id,
            dropped=builder.dropped,
            reason=f"only {len(problems)} verified items",
        )
    try:
        content = ModuleContent(
            title=_title(note, first_edit),
            learner_sentence=first_pair.sentence,
            correction=first_pair.corrected,
            explanation=plain(note.rule)[:700],
            examples=_examples(own, note, explanation_language),
            problems=problems,
            tips=[plain(note.tip)[:200]],
        )
    except ValidationError as exc:
        return Built(None, note_id=note.id, dropped=builder.dropped, reason=str(exc)[:300])
    return Built(content, note_id=note.id, dropped=builder.dropped)


def plain(text: str) -> str:
    """A note's Markdown as plain text: *word* becomes \u201cword\u201d."""
    text = re.sub(r"\*([^*]+)\*", "\u201c\\1\u201d", text)
    return re.sub(r"\\([\\`*_\[\]])", r"\1", text)


# -- finding the edit and its place ------------------------------------------------------


def _errant(pairs: Sequence[tuple[str, str]]) -> list[tuple[Any, ...]]:
    return annotate_pairs(pairs, language="en")


def _focus_edit(family: str, pair: Pair, edits: Sequence[Any]) -> Any | None:
    """The edit the focus is about: the stored one when ERRANT finds it again, else the
    sentence's first edit of the family."""
    ours = [e for e in edits if e.error_type == family]
    for edit in ours:
        same = normalise(edit.original) == normalise(pair.original) and normalise(
            edit.correction
        ) == normalise(pair.correction)
        if same:
            return edit
    return ours[0] if ours else None


def _locate(pair: Pair, edit: Any) -> tuple[int, int] | None:
    """Where the edit's corrected words sit in the corrected sentence: the occurrence
    nearest the edit's place in the learner's sentence (verified by the caller)."""
    key = edit.correction
    if not key:
        return None
    pattern = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)")
    spots = [(m.start(), m.end()) for m in pattern.finditer(pair.corrected)]
    if not spots:
        return None
    return min(spots, key=lambda s: abs(s[0] - edit.start))


def _note_pair(note: grammar.RenderedNote, family: str, annotate: Annotate):
    wrong, right = note.example
    pair = Pair(wrong, right)
    edit = _focus_edit(family, pair, annotate([(wrong, right)])[0])
    return (pair, edit) if edit is not None else None


# -- items -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, family: str, annotate: Annotate, language: str):
        self.family, self.annotate, self.language = family, annotate, language
        self.dropped: list[str] = []

    def items(self, pairs: Sequence[tuple[Pair, Any]]) -> list[list[Problem]]:
        """Per pair, its verified problems (one per kind at most)."""
        return [self._pair_items(pair, edit) for pair, edit in pairs]

    def _pair_items(self, pair: Pair, edit: Any) -> list[Problem]:
        rationale = _rationale(edit, self.language)
        gap = self._gap(pair, edit)
        made = []
        if gap is not None:
            made += [
                self._choice(gap, rationale),
                self._fill(gap, rationale),
                self._spot(gap.put(gap.wrong), gap.corrected, gap.wrong, rationale),
            ]
        elif edit.original and not edit.correction:
            made.append(self._spot(pair.sentence, pair.corrected, edit.original, rationale))
        made.append(self._rewrite(pair, rationale))
        return [p for p in made if p is not None]

    def _gap(self, pair: Pair, edit: Any) -> _Gap | None:
        span = _locate(pair, edit)
        if span is None:
            return None
        gap = _Gap(pair.corrected, *span, key=edit.correction, wrong=edit.original, edit=edit)
        # The learner's own words put back must give back exactly their mistake.
        edits = self.annotate([(gap.put(gap.wrong), pair.corrected)])[0]
        if len(edits) != 1 or edits[0].error_type != self.family:
            self.dropped.append(f"{pair.sentence!r}: the gap does not hold the mistake")
            return None
        return gap

    # Each kind, verified.

    def _fill(self, gap: _Gap, rationale: str) -> Problem | None:
        if len(gap.key) > MAX_BLANK_CHARS or len(gap.key.split()) > MAX_BLANK_WORDS:
            return None
        if not self.key_is_right(gap, gap.key):
            return None
        return Problem(kind="fill_blank", prompt=gap.prompt, answer=gap.key, rationale=rationale)

    def _choice(self, gap: _Gap, rationale: str) -> Problem | None:
        if not self.key_is_right(gap, gap.key):
            return None
        wrong = gap.wrong or NO_WORD
        candidates, seen = [], {normalise(gap.key)}
        for option in [wrong, *distractors(self.family, gap)]:
            if normalise(option) not in seen:
                seen.add(normalise(option))
                candidates.append(option)
        # One parse for all of them: spaCy pipes a batch faster than one by one.
        candidates = candidates[:6]
        options = [gap.key, *self.wrong_ones(gap, candidates)][:4]
        if len(options) < 2 or any(len(o) > MAX_OPTION_CHARS for o in options):
            return None
        random.Random(gap.corrected).shuffle(options)
        return Problem(
            kind="multiple_choice",
            prompt=gap.prompt,
            options=options,
            answer=gap.key,
            rationale=rationale,
        )

    def _spot(self, sentence: str, corrected: str, wrong: str, rationale: str) -> Problem | None:
        """Tap the wrong word: only a one-word mistake, in a sentence where that word
        appears once and is the only thing ERRANT finds wrong."""
        words = [w.casefold() for w in _WORD.findall(sentence)]
        if len(_WORD.findall(wrong)) != 1 or words.count(wrong.casefold()) != 1:
            return None
        edits = self.annotate([(sentence, corrected)])[0]
        if len(edits) != 1 or normalise(edits[0].original) != normalise(wrong):
            return None
        return Problem(kind="spot_mistake", prompt=sentence, answer=wrong, rationale=rationale)

    def _rewrite(self, pair: Pair, rationale: str) -> Problem | None:
        if len(pair.corrected) > 300:
            return None
        return Problem(
            kind="rewrite", prompt=pair.sentence, answer=pair.corrected, rationale=rationale
        )

    # The verification.

    def key_is_right(self, gap: _Gap, key: str) -> bool:
        left = self.annotate([(gap.put(key), gap.corrected)])[0]
        if left:
            self.dropped.append(f"key {key!r} leaves an edit in {gap.corrected!r}")
        return not left

    def distractor_is_wrong(self, gap: _Gap, option: str) -> bool:
        return bool(self.wrong_ones(gap, [option]))

    def wrong_ones(self, gap: _Gap, options: Sequence[str]) -> list[str]:
        """The options that, put back, give an edit of the family; the rest are dropped
        with what ERRANT made of them."""
        texts = ["" if option == NO_WORD else option for option in options]
        found = self.annotate([(gap.put(t), gap.corrected) for t in texts]) if texts else []
        kept = []
        for option, edits in zip(options, found, strict=True):
            if any(e.error_type == self.family for e in edits):
                kept.append(option)
                continue
            self.dropped.append(
                f"distractor {option!r} in {gap.corrected!r}: ERRANT finds "
                f"{', '.join(sorted({e.error_type for e in edits})) or 'no edit'}"
            )
        return kept


# -- distractors -------------------------------------------------------------------------


@cache
def confusions() -> dict[str, dict[str, list[str]]]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def distractors(family: str, gap: _Gap) -> list[str]:
    """Candidate wrong options for the gap (not yet verified)."""
    if family == "verb_tense":
        return _participles(gap)
    if family in _INFLECTED:
        return _verb_forms(gap)
    if family == "noun_number":
        return _noun_forms(gap)
    if family == "preposition":
        # One: the more prepositions offered, the likelier one of them also fits.
        offered = _from_set(confusions()["preposition"], gap.key)
        return [w for w in offered if w.lower() != gap.wrong.lower()][:1]
    if family == "determiner":
        return _determiners(gap)
    # Word order: another order of the words is often right too ("now have", "have
    # now"), so the learner's own order is the one wrong option.
    if family == "spelling":
        return _misspellings(gap.key)
    return []


def _same_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _from_set(table: dict[str, list[str]], key: str) -> list[str]:
    return [_same_case(w, key) for w in table.get(key.lower(), [])]


def _verb_forms(gap: _Gap) -> list[str]:
    """The other inflections of the key's last verb, the words before it kept."""
    lemma, found = _inflected(gap, "VERB", ("VBD", "VBZ", "VBP", "VBG", "VBN", "VB"))
    if lemma is None:
        return []
    out = list(dict.fromkeys(found))
    before = gap.key.split()[:-1]
    if before and lemma not in (w.lower() for w in before):
        out.append(_same_case(lemma, gap.key))  # the auxiliary dropped
    return out


def _participles(gap: _Gap) -> list[str]:
    """For a tense, only forms no context makes right: the bare past participle where a
    one-word finite verb belongs ("I known"). Another tense often fits a sentence on its
    own ("I knew the answer"), so other tenses are never offered; the learner's own
    form is, since the correction says it is wrong there."""
    from lemminflect import getAllInflections, getLemma

    if " " in gap.key:
        return []
    lemmas = getLemma(gap.key.lower(), upos="VERB")
    forms = getAllInflections(lemmas[0], upos="VERB") if lemmas else {}
    past = set(forms.get("VBD", ()))
    return [_same_case(f, gap.key) for f in forms.get("VBN", ()) if f not in past]


def _noun_forms(gap: _Gap) -> list[str]:
    return _inflected(gap, "NOUN", ("NN", "NNS"))[1]


def _inflected(gap: _Gap, upos: str, tags: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """The lemma of the key's last word, and the key with that word in each form of
    `tags` (the words before it kept), the key itself left out."""
    from lemminflect import getAllInflections, getLemma

    *before, last = gap.key.split()
    lemmas = getLemma(last.lower(), upos=upos)
    if not lemmas:
        return None, []
    forms = getAllInflections(lemmas[0], upos=upos)
    out = []
    for tag in tags:
        for form in forms.get(tag, ()):
            candidate = " ".join([*before, _same_case(form, last)])
            if candidate.lower() != gap.key.lower():
                out.append(candidate)
    return lemmas[0], out


def _determiners(gap: _Gap) -> list[str]:
    out = _from_set(confusions()["determiner"], gap.key)
    tags = list(getattr(gap.edit, "features", {}).get("right_tags") or ())
    if tags[:1] in (["NNS"], ["NNPS"]):
        out += _from_set(confusions()["plural_only"], gap.key)
    return out


def _misspellings(word: str) -> list[str]:
    """A doubled or undoubled letter, a dropped letter, two letters swapped: kept only
    when the dictionary does not know them (so they are not another word)."""
    if " " in word or len(word) < 4:
        return []
    checker = spellchecker("en")
    out = []
    for i in range(1, len(word) - 1):
        if word[i] == word[i + 1]:
            out.append(word[:i] + word[i + 1 :])
        elif word[i].isalpha() and word[i] not in "aeiou":
            out.append(word[: i + 1] + word[i] + word[i + 1 :])
        if word[i] != word[i + 1]:
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    unknown = [w for w in dict.fromkeys(out) if checker is None or w.lower() not in checker]
    return unknown[:6]


# -- the words around the items ----------------------------------------------------------


def _rationale(edit: Any, language: str) -> str:
    note = grammar.note_for(grammar.EditFacts.from_edit(edit), language)
    if note is None:
        return f"{edit.correction or NO_WORD}, not {edit.original or NO_WORD}"[:240]
    return plain(note.pattern)[:240]


def _title(note: grammar.RenderedNote, edit: Any) -> str:
    wrong, right = edit.original or NO_WORD, edit.correction or NO_WORD
    title = f"{plain(note.title)}: {right}, not {wrong}"
    return title if len(title) <= 80 else plain(note.title)[:80]


def _examples(
    own: Sequence[tuple[Pair, Any]], note: grammar.RenderedNote, language: str
) -> list[WorkedExample]:
    examples = [
        WorkedExample(wrong=p.sentence, right=p.corrected, note=_rationale(e, language)[:200])
        for p, e in own[: MAX_EXAMPLES - 1]
        if len(p.corrected) <= 200
    ]
    # The note's own example, with the pattern in its own words (not the learner's).
    own_words = grammar.note(note.id, language)
    wrong, right = own_words.example
    examples.append(WorkedExample(wrong=wrong, right=right, note=plain(own_words.pattern)[:200]))
    return examples[:MAX_EXAMPLES]


def _choose(items: list[list[Problem]]) -> list[Problem]:
    """Up to MAX_PROBLEMS problems, kinds and sentences interleaved: each pair's first
    kind, then each pair's second, so one sentence does not fill the practice."""
    order = ("multiple_choice", "fill_blank", "spot_mistake", "rewrite")
    by_pair = [sorted(ps, key=lambda p: order.index(p.kind)) for ps in items]
    chosen: list[Problem] = []
    for depth in range(len(order)):
        for position, problems in enumerate(by_pair):
            if depth < len(problems) and len(chosen) < MAX_PROBLEMS:
                # Rotate the kinds per sentence so the second sentence starts elsewhere.
                turn = position % len(problems)
                chosen.append((problems[turn:] + problems[:turn])[depth])
    return chosen


# -- an independent review of a built lesson ---------------------------------------------


def audit(content: ModuleContent, family: str, *, annotate: Annotate | None = None) -> list[str]:
    """Every item with a wrong key or more than one right answer, re-checked from the
    stored lesson alone: the key in its gap must give one of the lesson's corrected
    sentences with no edit left, every other option an edit of the family."""
    annotate = annotate or _errant
    rights = {normalise(e.right): e.right for e in content.examples}
    rights |= {normalise(p.answer): p.answer for p in content.problems if p.kind == "rewrite"}
    rights[normalise(content.correction)] = content.correction
    faults = []
    for number, problem in enumerate(content.problems, 1):
        if problem.kind in ("multiple_choice", "fill_blank"):
            faults += _audit_gap(number, problem, family, rights, annotate)
        elif problem.kind == "spot_mistake":
            corrected = _nearest(problem.prompt, rights)
            edits = annotate([(problem.prompt, corrected)])[0] if corrected else ()
            if len(edits) != 1 or normalise(edits[0].original) != normalise(problem.answer):
                faults.append(f"{number}: {problem.answer!r} is not the one wrong word")
        elif problem.kind == "rewrite" and not any(
            e.error_type == family for e in annotate([(problem.prompt, problem.answer)])[0]
        ):
            faults.append(f"{number}: the sentence to correct has no {family} mistake")
    return faults


def _audit_gap(number, problem, family, rights, annotate) -> list[str]:
    filled = put_back(problem.prompt, *_blank(problem.prompt), problem.answer)
    corrected = rights.get(normalise(filled))
    if corrected is None or annotate([(filled, corrected)])[0]:
        return [f"{number}: the key {problem.answer!r} does not give a corrected sentence"]
    keys = [o for o in problem.options if normalise(o) == normalise(problem.answer)]
    faults = [f"{number}: the key is offered {len(keys)} times"] if len(keys) > 1 else []
    for option in problem.options:
        if normalise(option) == normalise(problem.answer):
            continue
        text = "" if option == NO_WORD else option
        put = put_back(problem.prompt, *_blank(problem.prompt), text)
        if not any(e.error_type == family for e in annotate([(put, corrected)])[0]):
            faults.append(f"{number}: {option!r} is a second right answer or not a {family} error")
    return faults


def _blank(prompt: str) -> tuple[int, int]:
    start = prompt.index(BLANK)
    return start, start + len(BLANK)


def _nearest(sentence: str, rights: dict[str, str]) -> str:
    """The corrected sentence a spot-the-mistake sentence differs from by one word."""
    words = set(_WORD.findall(sentence.casefold()))
    return max(rights.values(), key=lambda r: len(words & set(_WORD.findall(r.casefold()))))
