"""What the learner reads about one marked mistake: the reviewed grammar note first, and
the model's own explanation only as "more", where it passes checks. Pure: no ORM.

A note is picked for the edit (grammar.notes) in the learner's explanation language. The
model's explanation is shown only when it names both the wrong and the right form, is
written in the learner's explanation language, and explains the note's kind of mistake;
a templated line adds nothing to the note and is never shown as "more"."""

from typing import Any

from analysis.core import explanations
from grammar import notes


def note_for_edit(edit: Any, language: str) -> dict | None:
    """The grammar note for a stored or fresh edit, as the API shows it, or None."""
    found = notes.note_for(notes.EditFacts.from_edit(edit), language)
    if found is None:
        return None
    return {
        "id": found.id,
        "title": found.title,
        "rule": found.rule,
        "pattern": found.pattern,
        "example": list(found.example),
        "tip": found.tip,
        "language": found.language,
    }


def more_explanation(edit: Any, note: dict | None, *, language: str, detected: str) -> str:
    """The model's explanation of the edit, when it may stand beside the note; else "".

    `detected`: the language the explanation is written in (the caller detects it)."""
    text = " ".join((edit.explanation or "").split())
    if not text or text == explanations.templated(edit.error_type, edit.original, edit.correction):
        return ""
    if detected != language:
        return ""
    lowered = text.lower()
    for form in (edit.original, edit.correction):
        if form and form.lower() not in lowered:
            return ""
    if note is not None and _contradicts(lowered, edit.error_type):
        return ""
    return text


# Words that place an explanation in another kind of mistake than the edit's: "use the
# past tense" said of an agreement error teaches the wrong rule.
_KIND_WORDS = {
    "verb_tense": ("tense", "past", "present", "future"),
    "subject_verb_agreement": ("agree", "singular subject", "plural subject", "third person"),
    "noun_number": ("plural", "singular", "countable"),
    "determiner": ("article",),
    "preposition": ("preposition",),
    "spelling": ("spell",),
}


def _contradicts(text: str, error_type: str) -> bool:
    """The explanation names another kind of mistake and not the edit's own."""
    own = _KIND_WORDS.get(error_type, ())
    if any(word in text for word in own):
        return False
    return any(
        word in text for kind, words in _KIND_WORDS.items() if kind != error_type for word in words
    )
