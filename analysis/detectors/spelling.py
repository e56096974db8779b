"""Spelling: words no dictionary knows, replaced by the likeliest known word.

A word is flagged only when neither SymSpell's frequency dictionary nor pyspellchecker's
knows it, it has at least MIN_LETTERS letters, only letters, and is not capitalised inside
the sentence (a capital there is usually a name: "Belgrano", "Zhenning"). Candidates are
SymSpell's within two edits (and splits into two words), ranked by a noisy channel:
how well each fits between its neighbours (SymSpell's bigram counts) less a cost per
edit and for a changed first letter. The best wins only when it is clearly likelier than
the next reading. No clear candidate, no proposal: a wrong
"correction" is worse than none.
"""

import itertools
import math
import re
import threading
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from analysis.core import annotate

MIN_LETTERS = 3
MAX_EDIT_DISTANCE = 2
# The noisy channel: each edit costs this much log-probability (about e^5 = 150 times less
# likely per edit); the language model is SymSpell's bigram and word counts.
EDIT_COST = 5.0
FIRST_LETTER_COST = 4.0
# The best reading must be this much likelier than the next (e^2, about 7 times), or the
# word is left alone: on the development set this halved the wrong corrections.
MIN_MARGIN = 2.0

APOSTROPHES = "'\u2019"
_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")
_lock = threading.Lock()
_state: dict[str, Any] = {}


def _symspell() -> Any:
    if "symspell" not in _state:
        with _lock:
            if "symspell" not in _state:
                from symspellpy import SymSpell

                data = files("symspellpy")
                sym = SymSpell(max_dictionary_edit_distance=MAX_EDIT_DISTANCE, prefix_length=7)
                sym.load_dictionary(str(data / "frequency_dictionary_en_82_765.txt"), 0, 1)
                sym.load_bigram_dictionary(
                    str(data / "frequency_bigramdictionary_en_243_342.txt"), 0, 2
                )
                _state["symspell"] = sym
    return _state["symspell"]


def _known(word: str) -> bool:
    lower = word.lower()
    checker = annotate.spellchecker("en")
    return lower in _symspell().words or (checker is not None and lower in checker)


def detect(texts: Sequence[str], **context: Any) -> list[list[str]]:
    out = []
    for text in texts:
        corrected = correct(text)
        out.append([corrected] if corrected != text else [])
    return out


def correct(text: str) -> str:
    words = list(_WORD.finditer(text))
    changes = []
    for i, match in enumerate(words):
        word = match.group()
        if not _flaggable(text, match) or _known(word):
            continue
        before = words[i - 1].group().lower() if i else ""
        after = words[i + 1].group().lower() if i + 1 < len(words) else ""
        best = _best(word.lower(), before, after)
        if best:
            changes.append((match.start(), match.end(), _same_case(word, best)))
    for start, end, replacement in reversed(changes):
        text = text[:start] + replacement + text[end:]
    return text


def _flaggable(text: str, match: re.Match) -> bool:
    word = match.group()
    if len(word) < MIN_LETTERS or any(a in word for a in APOSTROPHES):
        return False
    if word.isupper() and len(word) > 1:
        return False  # an acronym
    if word[0].isupper() and not _sentence_start(text, match.start()):
        return False  # a name, most likely
    # Part of a longer token ("7unsuspection", "e-mail", "www.x"): leave it alone.
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end() : match.end() + 2].ljust(2)
    joined = after[0] in "-_/@" or (after[0] in ".:" and after[1].isalnum())
    return not (before.isalnum() or after[0].isalnum() or before in "-_/@." or joined)


def _sentence_start(text: str, at: int) -> bool:
    head = text[:at].rstrip(" \"'\u201c\u2018(")
    return not head or head[-1] in ".!?"


def _best(word: str, before: str, after: str) -> str:
    """The candidate with the best noisy-channel score: how likely the word is between
    its neighbours (a bigram model interpolated with unigram counts), less a cost per
    edit. A split into two words ("afew" -> "a few") competes as one edit."""
    from symspellpy import Verbosity

    sym = _symspell()
    found = [
        (s.term, s.distance)
        for s in sym.lookup(word, Verbosity.ALL, max_edit_distance=MAX_EDIT_DISTANCE)
        if s.distance > 0 and _known(s.term)
    ]
    found += [(split, 1) for split in _splits(word)]
    if not found:
        return ""
    ranked = sorted(
        (
            (_score(term, distance, before, after) - _first_letter_cost(word, term), term)
            for term, distance in found
        ),
        reverse=True,
    )
    if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < MIN_MARGIN:
        return ""  # two readings about as likely: better no correction than a wrong one
    return ranked[0][1]


def _first_letter_cost(word: str, term: str) -> float:
    """Learners seldom get a word's first letter wrong ("bisnes" is not "lines")."""
    return FIRST_LETTER_COST if word[:1] != term[:1] else 0.0


def _splits(word: str) -> list[str]:
    """Two known words run together, seen together in the bigram counts."""
    sym = _symspell()
    out = []
    for i in range(1, len(word)):
        left, right = word[:i], word[i:]
        if (len(left) > 1 or left in "ai") and len(right) > 1 and f"{left} {right}" in sym.bigrams:
            out.append(f"{left} {right}")
    return out


def _score(term: str, distance: int, before: str, after: str) -> float:
    """log P(before term after) up to a constant, by a bigram chain (each pair's count
    over the count of the word it shares with the next pair), less the edit cost."""
    words = [w for w in (before, *term.split(), after) if w]
    if len(words) == 1:
        return -EDIT_COST * distance + math.log(_count(words[0]))
    chain = sum(math.log(_pair_count(a, b)) for a, b in itertools.pairwise(words))
    chain -= sum(math.log(_count(w)) for w in words[1:-1])
    return -EDIT_COST * distance + chain


def _count(word: str) -> float:
    return _symspell().words.get(word, 0) + 1.0


def _pair_count(a: str, b: str) -> float:
    """How often `a b` occurs. The bigram list is pruned: a pair missing from it was seen
    fewer times than the rarest pair kept (not never), so it counts half that, and never
    more than either of its words."""
    found = _symspell().bigrams.get(f"{a} {b}")
    if found:
        return float(found)
    return min(_bigram_floor() / 2, _count(a), _count(b))


def _bigram_floor() -> float:
    if "floor" not in _state:
        _state["floor"] = float(min(_symspell().bigrams.values()))
    return _state["floor"]


def _same_case(original: str, word: str) -> str:
    if original[0].isupper():
        return word[0].upper() + word[1:]
    return word
