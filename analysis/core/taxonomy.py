"""The product's error taxonomy and the mapping from ERRANT's error types to it.

ERRANT (the standard GEC annotation toolkit) types an edit as an operation
("R:" replaced, "M:" missing, "U:" unnecessary) plus a category ("VERB:TENSE",
"DET", ...). Learners see a smaller, friendlier set; this module is the one
place that decides how the two line up. Pure: no ORM, no model.
"""

from django.db import models


class ErrorType(models.TextChoices):
    VERB_TENSE = "verb_tense", "Verb tense"
    VERB_FORM = "verb_form", "Verb form"
    SUBJECT_VERB_AGREEMENT = "subject_verb_agreement", "Subject-verb agreement"
    DETERMINER = "determiner", "Articles and determiners"
    PREPOSITION = "preposition", "Prepositions"
    NOUN_NUMBER = "noun_number", "Singular and plural nouns"
    PRONOUN = "pronoun", "Pronouns"
    WORD_ORDER = "word_order", "Word order"
    SPELLING = "spelling", "Spelling"
    VOCABULARY = "vocabulary", "Word choice"
    PUNCTUATION = "punctuation", "Punctuation and capitalisation"
    OTHER = "other", "Other"


TAXONOMY: tuple[str, ...] = tuple(ErrorType.values)

# ERRANT category (the part after "R:", "M:" or "U:") -> product type.
_ERRANT_CATEGORY = {
    "VERB:TENSE": ErrorType.VERB_TENSE,
    "VERB:FORM": ErrorType.VERB_FORM,
    # "getted -> got": a wrongly built form of the verb, not a wrong tense.
    "VERB:INFL": ErrorType.VERB_FORM,
    "VERB:SVA": ErrorType.SUBJECT_VERB_AGREEMENT,
    "DET": ErrorType.DETERMINER,
    "PREP": ErrorType.PREPOSITION,
    "NOUN:NUM": ErrorType.NOUN_NUMBER,
    # "informations -> information": a plural the noun does not take.
    "NOUN:INFL": ErrorType.NOUN_NUMBER,
    "PRON": ErrorType.PRONOUN,
    "WO": ErrorType.WORD_ORDER,
    "SPELL": ErrorType.SPELLING,
    # ORTH is case and whitespace: shown to learners with punctuation.
    "ORTH": ErrorType.PUNCTUATION,
    "PUNCT": ErrorType.PUNCTUATION,
    "NOUN": ErrorType.VOCABULARY,
    "VERB": ErrorType.VOCABULARY,
    "ADJ": ErrorType.VOCABULARY,
    "ADV": ErrorType.VOCABULARY,
    # "quick -> quickly", "success -> successful": the right word in the wrong form.
    "MORPH": ErrorType.VOCABULARY,
    "CONJ": ErrorType.VOCABULARY,
    "ADJ:FORM": ErrorType.OTHER,
    "NOUN:POSS": ErrorType.OTHER,
    "CONTR": ErrorType.OTHER,
    "OTHER": ErrorType.OTHER,
    "UNK": ErrorType.OTHER,
}

# How much each type matters to a learner by default (1..5), used when the model
# gives no priority and to rank clusters. Grammar that changes meaning ranks high;
# capitalisation and punctuation rank low.
DEFAULT_PRIORITY = {
    ErrorType.VERB_TENSE: 4,
    ErrorType.VERB_FORM: 4,
    ErrorType.SUBJECT_VERB_AGREEMENT: 4,
    ErrorType.DETERMINER: 3,
    ErrorType.PREPOSITION: 3,
    ErrorType.NOUN_NUMBER: 3,
    ErrorType.PRONOUN: 3,
    ErrorType.WORD_ORDER: 4,
    ErrorType.SPELLING: 2,
    ErrorType.VOCABULARY: 3,
    ErrorType.PUNCTUATION: 1,
    ErrorType.OTHER: 2,
}


def errant_category(errant_type: str) -> str:
    """'R:VERB:TENSE' -> 'VERB:TENSE'; a bare category is returned unchanged."""
    if errant_type[:2] in ("R:", "M:", "U:"):
        return errant_type[2:]
    return errant_type


def from_errant(errant_type: str, *, original: str = "", correction: str = "") -> str:
    """The product type for an ERRANT type such as 'R:VERB:TENSE' or 'M:DET'.

    PART is split by its token: a missing or extra "to" is the verb pattern
    ("want go -> want to go"); any other particle is a phrasal verb's preposition.
    """
    category = errant_category(errant_type.strip().upper())
    if category == "PART":
        words = {w.lower() for w in f"{original} {correction}".split()}
        return ErrorType.VERB_FORM.value if "to" in words else ErrorType.PREPOSITION.value
    return _ERRANT_CATEGORY.get(category, ErrorType.OTHER).value


def coerce(value: str) -> str:
    """A product type from loose text (the model's own label); unknown -> 'other'."""
    norm = value.strip().lower().replace("-", "_").replace(" ", "_")
    if norm in TAXONOMY:
        return norm
    aliases = {
        "tense": ErrorType.VERB_TENSE,
        "agreement": ErrorType.SUBJECT_VERB_AGREEMENT,
        "sva": ErrorType.SUBJECT_VERB_AGREEMENT,
        "article": ErrorType.DETERMINER,
        "articles": ErrorType.DETERMINER,
        "plural": ErrorType.NOUN_NUMBER,
        "word_choice": ErrorType.VOCABULARY,
        "capitalisation": ErrorType.PUNCTUATION,
        "capitalization": ErrorType.PUNCTUATION,
        "grammar": ErrorType.OTHER,
    }
    return aliases.get(norm, ErrorType.OTHER).value


def label(error_type: str) -> str:
    """The learner-facing name of a product type."""
    try:
        return ErrorType(error_type).label
    except ValueError:
        return ErrorType.OTHER.label
