"""Which language a text is in, by lingua, among the few languages that matter.

A detector built for a handful of languages is small and accurate on short sentences;
one built for all 75 costs over a gigabyte. Detectors are kept per language set.
"""

from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder


def _language(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None


@lru_cache(maxsize=32)
def _detector(codes: frozenset[str]):
    languages = [lang for lang in (_language(c) for c in sorted(codes)) if lang is not None]
    if len(languages) < 2:
        # lingua needs two candidates; English is the product's lingua franca.
        languages.append(_language("en" if "en" not in codes else "es"))
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect(text: str, *, among: frozenset[str] | set[str]) -> str | None:
    """The ISO 639-1 code of `text`'s language among `among`, or None when unsure."""
    if not text.strip():
        return None
    found = _detector(frozenset(among)).detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else None
