"""Short templated explanations, used when the model's own is missing or unusable."""

from analysis.core.taxonomy import ErrorType

_REPLACE = {
    ErrorType.VERB_TENSE: "Use “{c}” instead of “{o}”: the sentence needs a different tense.",
    ErrorType.VERB_FORM: "Use “{c}” instead of “{o}”: this is the right form of the verb here.",
    ErrorType.SUBJECT_VERB_AGREEMENT: (
        "Use “{c}” instead of “{o}”: the verb must agree with its subject."
    ),
    ErrorType.DETERMINER: "Use “{c}” instead of “{o}” here.",
    ErrorType.PREPOSITION: "The preposition here is “{c}”, not “{o}”.",
    ErrorType.NOUN_NUMBER: "Use “{c}” instead of “{o}”: check singular and plural.",
    ErrorType.PRONOUN: "Use the pronoun “{c}” instead of “{o}”.",
    ErrorType.WORD_ORDER: "Change the word order: “{c}”.",
    ErrorType.SPELLING: "“{o}” is spelled “{c}”.",
    ErrorType.VOCABULARY: "“{c}” is the word that fits here, not “{o}”.",
    ErrorType.PUNCTUATION: "Write “{c}” instead of “{o}”.",
    ErrorType.OTHER: "Write “{c}” instead of “{o}”.",
}
_MISSING = {
    ErrorType.DETERMINER: "Add “{c}” before the noun.",
    ErrorType.PREPOSITION: "Add the preposition “{c}”.",
    ErrorType.PUNCTUATION: "Add “{c}”.",
    ErrorType.VERB_FORM: "Add “{c}”: the verb needs it here.",
}
_UNNECESSARY = {
    ErrorType.DETERMINER: "Leave out “{o}” here.",
    ErrorType.PREPOSITION: "Leave out the preposition “{o}”.",
    ErrorType.PUNCTUATION: "Leave out “{o}”.",
}


def templated(error_type: str, original: str, correction: str) -> str:
    """One line from the error's type and its edit, e.g. "Use “went” instead of “go”..."."""
    kind = ErrorType(error_type)
    if not original:
        template = _MISSING.get(kind, "Add “{c}” here.")
    elif not correction:
        template = _UNNECESSARY.get(kind, "Leave out “{o}” here.")
    else:
        template = _REPLACE[kind]
    return template.format(o=original, c=correction)
