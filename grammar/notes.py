"""The grammar-notes library: short, reviewed explanations of learners' common mistakes.

The notes are data, in grammar/data/: notes.toml says what each note is about and which
edits it explains (language-independent), and en.toml, ko.toml and es.toml say it in
each explanation language. This module loads and checks them once, picks the note for
an ERRANT edit, and fills the note's pattern with the learner's own words.

Pure on purpose (no Django, no ORM, no model): the analysis shows a note under each
mark, the lesson builder takes its rule, tip and examples, and the tutor retrieves notes
to answer grammar questions; all three read the same library.
"""

import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

# The explanation languages the notes are written in. Any other language gets English:
# a learner should see a correct note in English rather than none.
LANGUAGES = ("en", "ko", "es")
FALLBACK_LANGUAGE = "en"

# The product's error families (analysis.core.taxonomy.ErrorType values). Repeated here so
# this package needs no Django; a test keeps the two lists equal.
FAMILIES = (
    "verb_tense",
    "verb_form",
    "subject_verb_agreement",
    "determiner",
    "preposition",
    "noun_number",
    "pronoun",
    "word_order",
    "spelling",
    "vocabulary",
    "punctuation",
    "other",
)

TEXT_FIELDS = ("title", "rule", "pattern", "tip")
SLOTS = frozenset({"wrong", "right"})

_NOTE_KEYS = frozenset(
    {"id", "family", "keywords", "questions", "example", "example_slots"}
    | {"context", "gap_context", "match"}
)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# How many context words a pattern may borrow: annotate stores two before, four after.
_MAX_LEFT, _MAX_RIGHT = 2, 4
# Markdown that would break the emphasis a pattern puts around the learner's words.
_MARKDOWN = re.compile(r"([\\`*_\[\]])")


class NotesError(ValueError):
    """The notes data is broken: raised at load, so a bad edit fails the first test."""


# -- what a note is matched against ------------------------------------------------------


@dataclass(frozen=True)
class EditFacts:
    """What the matching needs from one edit: its family and ERRANT type, the edited words
    on both sides, and the words around it (from the corrected sentence; two before, up
    to four after). Built from an analysis Edit or a stored DetectedError alike."""

    error_type: str
    source_type: str
    original: str
    correction: str
    orig_tokens: tuple[str, ...] = ()
    corr_tokens: tuple[str, ...] = ()
    orig_lemmas: tuple[str, ...] = ()
    corr_lemmas: tuple[str, ...] = ()
    orig_tags: tuple[str, ...] = ()
    corr_tags: tuple[str, ...] = ()
    left_tokens: tuple[str, ...] = ()
    left_lemmas: tuple[str, ...] = ()
    left_tags: tuple[str, ...] = ()
    right_tokens: tuple[str, ...] = ()
    right_lemmas: tuple[str, ...] = ()
    right_tags: tuple[str, ...] = ()
    # The same neighbours in the learner's sentence, to quote what they wrote.
    orig_left_tokens: tuple[str, ...] = ()
    orig_right_tokens: tuple[str, ...] = ()

    @classmethod
    def from_edit(cls, edit: Any) -> "EditFacts":
        """From anything with error_type, source_type, original, correction and features
        (analysis.core.schemas.Edit, analysis.models.DetectedError). Edits stored before the
        context features existed simply have no context."""
        features = getattr(edit, "features", None) or {}

        def seq(key: str) -> tuple[str, ...]:
            return tuple(str(x) for x in features.get(key) or ())

        return cls(
            error_type=edit.error_type,
            source_type=edit.source_type or "",
            original=edit.original or "",
            correction=edit.correction or "",
            **{name: seq(name) for name in _FEATURE_FIELDS},
        )

    @property
    def case_only(self) -> bool:
        """'london' -> 'London': only the letter case changed."""
        return self.original != self.correction and self.original.lower() == (
            self.correction.lower()
        )


_FEATURE_FIELDS = (
    "orig_tokens",
    "corr_tokens",
    "orig_lemmas",
    "corr_lemmas",
    "orig_tags",
    "corr_tags",
    "left_tokens",
    "left_lemmas",
    "left_tags",
    "right_tokens",
    "right_lemmas",
    "right_tags",
    "orig_left_tokens",
    "orig_right_tokens",
)


def _lower(xs: tuple[str, ...]) -> set[str]:
    return {x.lower() for x in xs}


def _collocations(f: EditFacts) -> set[str]:
    # "depend" + "on" -> {"depend on"}: the word before with the corrected words.
    if not f.left_lemmas or not f.corr_tokens:
        return set()
    return {" ".join((f.left_lemmas[-1], *f.corr_tokens)).lower()}


def _types(f: EditFacts) -> set[str]:
    # "R:VERB:FORM" is matched by itself or by its category "VERB:FORM" (any operation).
    kind = f.source_type.upper()
    return {kind, kind[2:]} if kind[:2] in ("R:", "M:", "U:") else {kind}


# Each condition a note's match block may name, and the edit's values it is checked
# against. A condition holds when any of its listed values is among them. ("families"
# is listed for checking the data; _matches reads it first, with its default.)
_CONDITIONS: dict[str, Callable[[EditFacts], set[str]]] = {
    "families": lambda f: {f.error_type},
    "types": _types,
    "orig_tokens": lambda f: _lower(f.orig_tokens),
    "corr_tokens": lambda f: _lower(f.corr_tokens),
    "orig_lemmas": lambda f: _lower(f.orig_lemmas),
    "corr_lemmas": lambda f: _lower(f.corr_lemmas),
    "orig_tags": lambda f: set(f.orig_tags),
    "corr_tags": lambda f: set(f.corr_tags),
    # Context: the word just before, the two before, the two after, the four after.
    "prev_lemmas": lambda f: _lower(f.left_lemmas[-1:]),
    "left_lemmas": lambda f: _lower(f.left_lemmas),
    "left_tags": lambda f: set(f.left_tags),
    "next_lemmas": lambda f: _lower(f.right_lemmas[:2]),
    "next_tags": lambda f: set(f.right_tags[:2]),
    "after_lemmas": lambda f: _lower(f.right_lemmas),
    # The word before and the corrected words together: "good at", "depend on".
    "collocations": _collocations,
}
_FLAGS = ("case_only",)


# -- what the product shows ----------------------------------------------------------------


@dataclass(frozen=True)
class RenderedNote:
    """One note in one language. `pattern` carries the learner's words when the note was
    picked for an edit and they can be shown (`own_words`), else the note's own example
    words. Text uses `*word*` for English words (the product's Markdown renders it as
    emphasis); `example` is plain English."""

    id: str
    family: str
    language: str
    title: str
    rule: str
    pattern: str
    example: tuple[str, str]  # (wrong sentence, right sentence)
    tip: str
    own_words: bool = False  # the pattern quotes the learner's edit, not the example


@dataclass(frozen=True)
class _Note:
    id: str
    family: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]
    example: tuple[str, str]
    example_slots: tuple[str, str]
    context: tuple[int, int]  # words borrowed before/after a replaced span
    gap_context: tuple[int, int]  # ... and around a missing or unneeded word
    match: tuple[Mapping[str, Any], ...]  # empty: the family's own note
    texts: Mapping[str, Mapping[str, str]]  # language -> field -> text


@dataclass(frozen=True)
class Library:
    """The checked notes. Build it with load(); the product uses library()."""

    notes: tuple[_Note, ...]  # every note, in file order
    subtypes: tuple[_Note, ...]  # the notes with match blocks: the first that matches wins
    by_id: Mapping[str, _Note]
    by_family: Mapping[str, _Note]  # each family's general note


# -- the public functions ---------------------------------------------------------------


def note_for(facts: EditFacts, language: str) -> RenderedNote | None:
    """The note that explains this edit, its pattern filled with the learner's words.

    The first note in notes.toml's order with a matching block wins (narrower notes come
    first there), then the family's own note. None for an edit ERRANT did not type (the
    token diff of other languages): the notes explain English.
    """
    if facts.source_type[:2].upper() not in ("R:", "M:", "U:"):
        return None
    lib = library()
    seen: dict[str, set[str]] = {}  # the edit's values per condition, computed once
    for note in lib.subtypes:
        if any(_matches(block, facts, note.family, seen) for block in note.match):
            return _render(note, language, _slots(note, facts))
    family = lib.by_family.get(facts.error_type)
    return _render(family, language, _slots(family, facts)) if family else None


def family_note(family: str, language: str) -> RenderedNote:
    """The general note of a product family ('verb_tense', ...)."""
    note = library().by_family.get(family)
    if note is None:
        raise KeyError(f"no grammar note for family {family!r}")
    return _render(note, language, None)


def note(note_id: str, language: str) -> RenderedNote:
    """One note by its stable id, with its own example words in the pattern."""
    found = library().by_id.get(note_id)
    if found is None:
        raise KeyError(f"no grammar note {note_id!r}")
    return _render(found, language, None)


def notes(language: str) -> tuple[RenderedNote, ...]:
    """Every note, in the library's order, with their own example words."""
    return tuple(_render(n, language, None) for n in library().notes)


def retrieval_text(note_id: str, language: str = FALLBACK_LANGUAGE) -> str:
    """What a search indexes for a note: title, rule and pattern in `language`, plus the
    English keywords and questions a learner might ask, as plain text."""
    found = library().by_id.get(note_id)
    if found is None:
        raise KeyError(f"no grammar note {note_id!r}")
    shown = _render(found, language, None)
    lines = [shown.title, shown.rule, shown.pattern, ", ".join(found.keywords)]
    lines += found.questions
    return "\n".join(line.replace("*", "") for line in lines)


@cache
def library() -> Library:
    """The shipped notes, loaded and checked once per process."""
    return load(Path(str(resources.files("grammar") / "data")))


# -- matching ------------------------------------------------------------------------------


def _matches(
    block: Mapping[str, Any], facts: EditFacts, family: str, seen: dict[str, set[str]]
) -> bool:
    """Every condition of the block holds. Without `families`, a block only matches edits
    of its note's own family, so a note never explains another family's mark by accident."""
    if facts.error_type not in block.get("families", (family,)):
        return False
    for key, wanted in block.items():
        if key == "families":
            continue
        if key in _FLAGS:
            if getattr(facts, key) is not wanted:
                return False
            continue
        if key not in seen:
            seen[key] = _CONDITIONS[key](facts)
        if not wanted & seen[key]:
            return False
    return True


# -- rendering -------------------------------------------------------------------------


def _language(language: str) -> str:
    code = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    return code if code in LANGUAGES else FALLBACK_LANGUAGE


def _render(note: _Note, language: str, slots: tuple[str, str] | None) -> RenderedNote:
    lang = _language(language)
    text = note.texts[lang]
    wrong, right = slots or tuple(_escape(s) for s in note.example_slots)
    return RenderedNote(
        id=note.id,
        family=note.family,
        language=lang,
        title=text["title"],
        rule=text["rule"],
        pattern=text["pattern"].format(wrong=wrong, right=right),
        example=note.example,
        tip=text["tip"],
        own_words=slots is not None,
    )


def _slots(note: _Note, facts: EditFacts) -> tuple[str, str] | None:
    """The learner's wrong and right words, with as many neighbouring words as the note
    asks for (more around a missing or unneeded word, which means nothing alone: "an
    advice" -> "advice"). None when there is nothing to show."""
    wrong, right = facts.original.strip(), facts.correction.strip()
    before, after = note.context if wrong and right else note.gap_context
    after = _reach(facts.right_tokens, facts.right_tags, after)
    # The wrong side quotes the learner's own neighbours where the edit carries them
    # ("am living", not the corrected "have living").
    own = bool(facts.orig_left_tokens or facts.orig_right_tokens)
    shown_wrong = _phrase(
        facts.orig_left_tokens if own else facts.left_tokens,
        wrong,
        facts.orig_right_tokens if own else facts.right_tokens,
        before,
        after,
    )
    shown_right = _phrase(facts.left_tokens, right, facts.right_tokens, before, after)
    if not shown_wrong or not shown_right or shown_wrong == shown_right:
        return None
    return _escape(shown_wrong), _escape(shown_right)


def _phrase(
    left: tuple[str, ...], core: str, right: tuple[str, ...], before: int, after: int
) -> str:
    left, right = _after_last_punct(left), _before_first_punct(right)
    start = len(left) - before if before else len(left)
    # Don't start on a clitic: "n't go" reads as nonsense, "didn't go" does not.
    while 0 < start < len(left) and _attaches(left[start]):
        start -= 1
    return _join((*left[max(start, 0) :], core, *right[:after]))


_NOUNISH = frozenset({"NN", "NNS", "NNP", "NNPS", "CD"})
_LEADS_IN = frozenset({"IN", "TO", "DT", "PDT", "CC", "PRP$", "POS", "WDT"})


def _reach(tokens: tuple[str, ...], tags: tuple[str, ...], most: int) -> int:
    """How many words after the edit to show: up to `most`, but ending with the first
    noun (and its compound: "at the bus stop", "for five years"), so a pattern never
    shows half a phrase ("at the bus"). Without tags (older edits), none."""
    n = min(most, len(_before_first_punct(tokens)), len(tags))
    for i in range(n):
        if tags[i] in _NOUNISH:
            while i + 1 < n and tags[i + 1] in _NOUNISH:
                i += 1
            return i + 1
    # No noun: don't end on a word that needs one ("I have lived in").
    while n and tags[n - 1] in _LEADS_IN:
        n -= 1
    return n


def _is_punct(token: str) -> bool:
    return not any(ch.isalnum() for ch in token)


def _after_last_punct(tokens: tuple[str, ...]) -> tuple[str, ...]:
    # Context stops at punctuation: "Thank you, for help" shows "for helping".
    for i in range(len(tokens) - 1, -1, -1):
        if _is_punct(tokens[i]):
            return tokens[i + 1 :]
    return tokens


def _before_first_punct(tokens: tuple[str, ...]) -> tuple[str, ...]:
    for i, token in enumerate(tokens):
        if _is_punct(token):
            return tokens[:i]
    return tokens


def _join(parts: tuple[str, ...]) -> str:
    """Words back into text: spaCy splits "don't" into "do" + "n't" and "friend's" into
    "friend" + "'s"; those and punctuation attach to the word before."""
    out = ""
    for part in parts:
        if part:
            out += part if not out or _attaches(part) else f" {part}"
    return out


def _attaches(token: str) -> bool:
    return token[:1] in ("'", "\u2019") or token.lower().startswith("n't") or _is_punct(token)


def _escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


# -- loading and checking ------------------------------------------------------------------


def load(directory: Path) -> Library:
    """Read and check notes.toml and one file per language from `directory`. Any missing
    field, unknown family or condition, or note missing in a language is a NotesError."""
    raw = _read(directory / "notes.toml")
    entries = raw.get("note")
    if not isinstance(entries, list) or not entries or set(raw) != {"note"}:
        raise NotesError("notes.toml must hold only a non-empty [[note]] array")
    texts = {lang: _read(directory / f"{lang}.toml") for lang in LANGUAGES}
    notes = tuple(_note(entry, i, texts) for i, entry in enumerate(entries))

    by_id: dict[str, _Note] = {}
    for n in notes:
        if n.id in by_id:
            raise NotesError(f"note id {n.id!r} is used twice")
        by_id[n.id] = n
    for lang, table in texts.items():
        unknown = sorted(set(table) - set(by_id))
        if unknown:
            raise NotesError(f"{lang}.toml has notes that notes.toml lacks: {unknown}")

    by_family: dict[str, _Note] = {}
    for n in notes:
        if not n.match:
            if n.family in by_family:
                raise NotesError(f"family {n.family!r} has two general notes")
            by_family[n.family] = n
    missing = [f for f in FAMILIES if f not in by_family]
    if missing:
        raise NotesError(f"families without a general note (one with no match): {missing}")
    # Read-only views: one library is shared by every request of the process.
    return Library(
        notes=notes,
        subtypes=tuple(n for n in notes if n.match),
        by_id=MappingProxyType(by_id),
        by_family=MappingProxyType(by_family),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise NotesError(f"missing notes file {path.name}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise NotesError(f"{path.name}: {exc}") from exc


def _note(entry: Any, index: int, texts: Mapping[str, Mapping[str, Any]]) -> _Note:
    if not isinstance(entry, dict):
        raise NotesError(f"note #{index + 1} is not a table")
    note_id = entry.get("id")
    where = f"note {note_id!r}" if isinstance(note_id, str) else f"note #{index + 1}"
    unknown = set(entry) - _NOTE_KEYS
    if unknown:
        raise NotesError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "family", "keywords", "questions", "example", "example_slots"):
        if key not in entry:
            raise NotesError(f"{where}: missing {key!r}")
    if not isinstance(note_id, str) or not _ID.match(note_id):
        raise NotesError(f"{where}: id must be a lowercase slug")
    if entry["family"] not in FAMILIES:
        raise NotesError(f"{where}: unknown family {entry['family']!r}")
    return _Note(
        id=note_id,
        family=entry["family"],
        keywords=_strings(entry["keywords"], f"{where} keywords"),
        questions=_strings(entry["questions"], f"{where} questions"),
        example=_pair(entry["example"], f"{where} example"),
        example_slots=_pair(entry["example_slots"], f"{where} example_slots"),
        context=_context(entry.get("context", [0, 0]), f"{where} context"),
        gap_context=_context(entry.get("gap_context", [1, 1]), f"{where} gap_context"),
        match=tuple(_block(b, f"{where} match") for b in _list(entry.get("match", []), where)),
        texts=MappingProxyType(
            {
                lang: _texts(table.get(note_id), f"{lang}.toml {where}")
                for lang, table in texts.items()
            }
        ),
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise NotesError(f"{where}: must be a non-empty list of non-empty strings")
    return tuple(value)


def _pair(value: Any, where: str) -> tuple[str, str]:
    if not isinstance(value, dict) or set(value) != {"wrong", "right"}:
        raise NotesError(f"{where}: must be a table with exactly 'wrong' and 'right'")
    wrong, right = value["wrong"], value["right"]
    if not all(isinstance(v, str) and v.strip() for v in (wrong, right)) or wrong == right:
        raise NotesError(f"{where}: 'wrong' and 'right' must be different, non-empty text")
    return wrong, right


def _context(value: Any, where: str) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not (0 <= value[0] <= _MAX_LEFT and 0 <= value[1] <= _MAX_RIGHT)
    ):
        raise NotesError(f"{where}: must be [before, after] with 0..{_MAX_LEFT}, 0..{_MAX_RIGHT}")
    return value[0], value[1]


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise NotesError(f"{where}: match must be an array of tables")
    return value


def _block(block: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(block, dict) or not block:
        raise NotesError(f"{where}: each match block must be a non-empty table")
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key in _FLAGS:
            if not isinstance(value, bool):
                raise NotesError(f"{where}: {key!r} must be true or false")
            out[key] = value
            continue
        if key not in _CONDITIONS:
            raise NotesError(f"{where}: unknown condition {key!r}")
        values = _strings(value, f"{where} {key}")
        if key == "families" and not set(values) <= set(FAMILIES):
            raise NotesError(f"{where}: unknown family in {list(values)}")
        # Tags and ERRANT types are upper case, words and lemmas lower case.
        upper = key == "types" or key.endswith("_tags")
        out[key] = frozenset(v.upper() if upper else v.lower() for v in values)
    if "families" in out:
        out["families"] = tuple(sorted(out["families"]))
    return out


def _texts(table: Any, where: str) -> Mapping[str, str]:
    if table is None:
        raise NotesError(f"{where}: missing")
    if not isinstance(table, dict) or set(table) != set(TEXT_FIELDS):
        raise NotesError(f"{where}: needs exactly the fields {list(TEXT_FIELDS)}")
    for name in TEXT_FIELDS:
        text = table[name]
        if not isinstance(text, str) or not text.strip():
            raise NotesError(f"{where}: {name!r} is empty")
        if text.count("*") % 2:
            raise NotesError(f"{where}: {name!r} has an unclosed *emphasis*")
        if name == "pattern":
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            if fields != SLOTS:
                raise NotesError(f"{where}: pattern must use exactly {{wrong}} and {{right}}")
        elif "{" in text or "}" in text:
            raise NotesError(f"{where}: {name!r} has a stray brace")
    return MappingProxyType(dict(table))
