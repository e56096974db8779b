"""Practice on request ("Give me 3 practice questions on the past tense"), for the tutor:
items from the lesson builder, so every key is verified and no distractor is a second
right answer. The items come from the learner's own corrected sentences of the kind of
mistake asked for (else their most frequent kind the builder knows), and from the grammar
note's example where the learner has none of that kind yet."""

import re

from accounts.profiles import explanation_language
from analysis.core.taxonomy import ErrorType
from analysis.models import DetectedError
from conversations.notes_search import search as notes_search
from conversations.tutoring import Practice, PracticeItem
from grammar import notes as grammar
from teaching.core import builder

_WORD = re.compile(r"[a-z]+")
_WORD_OR_NUMBER = re.compile(r"[a-z]+|\d+")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# Words of the families' names that say nothing about which family is meant.
NAME_STOPWORDS = frozenset({"and", "verb", "noun", "word"})
# The learner's most recent shown mistakes the items may come from.
RECENT_MISTAKES = 200
PAIRS_PER_FAMILY = 4


def practice_for(request: str, user) -> Practice | None:
    """Verified practice items for the learner's request, or None when none can be built."""
    language = explanation_language(user)
    own = _own_pairs(user)
    asked, note_id = _asked(request)
    families = [asked] if asked else sorted(own, key=lambda family: -len(own[family]))
    for family in families:
        pairs = own.get(family) or _note_pairs(family, language, first=note_id)
        built = builder.build(family, pairs[:PAIRS_PER_FAMILY], explanation_language=language)
        if built.content is not None:
            return _practice(built.content, own=bool(own.get(family)), most=_asked_count(request))
    return None


def _asked_count(request: str) -> int | None:
    """ "3 questions", "three questions": how many items the learner asked for, if said."""
    for word in _WORD_OR_NUMBER.findall(request.lower()):
        count = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if count and 0 < count <= 20:
            return count
    return None


def _own_pairs(user) -> dict[str, list[builder.Pair]]:
    errors = (
        DetectedError.objects.filter(
            utterance__learner=user,
            shown=True,
            error_type__in=builder.BUILT_FAMILIES,
            utterance__language="en",
        )
        .select_related("utterance")
        .order_by("-id")[:RECENT_MISTAKES]
    )
    pairs: dict[str, list[builder.Pair]] = {}
    seen = set()
    for error in errors:
        utterance = error.utterance
        if (error.error_type, utterance.text) in seen:
            continue
        seen.add((error.error_type, utterance.text))
        pair = builder.Pair(utterance.text, utterance.corrected, error.original, error.correction)
        pairs.setdefault(error.error_type, []).append(pair)
    return pairs


def _asked(request: str) -> tuple[str | None, str | None]:
    """The kind of mistake the request names, and the grammar note it is about: the best
    matching note, found as a grammar question is, else a family whose name the request
    uses ("plural nouns", "prepositions"); only families the builder makes lessons of."""
    found = notes_search(request, "en")
    if found and found[0].note.family in builder.BUILT_FAMILIES:
        return found[0].note.family, found[0].note.id
    words = {_stem(w) for w in _WORD.findall(request.lower())}
    named = [f for f in sorted(builder.BUILT_FAMILIES) if words & _family_words(f)]
    return (named[0], None) if len(named) == 1 else (None, None)


def _family_words(family: str) -> set[str]:
    """The content words of the family's name and its label ("Singular and plural nouns")."""
    text = f"{family.replace('_', ' ')} {ErrorType(family).label}".lower()
    return {_stem(w) for w in _WORD.findall(text)} - NAME_STOPWORDS


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _note_pairs(family: str, language: str, *, first: str | None) -> list[builder.Pair]:
    """The example of the note asked about, else the examples of the family's notes. A
    family spans several topics (verb tense: the past simple, the present perfect, the
    future...): practice on "the past tense" is built from the past-simple note alone, its
    one sentence giving an item of each kind."""
    found = [n for n in grammar.notes(language) if n.family == family]
    asked = [n for n in found if n.id == first]
    return [builder.Pair(*note.example) for note in asked or found]


def _practice(content, *, own: bool, most: int | None) -> Practice:
    problems = content.problems[:most] if most else content.problems
    return Practice(
        title=content.title,
        from_own_sentences=own,
        items=tuple(
            PracticeItem(
                kind=p.kind,
                prompt=p.prompt,
                options=tuple(p.options),
                answer=p.answer,
            )
            for p in problems
        ),
    )
