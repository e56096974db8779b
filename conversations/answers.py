"""Text rules of the tutor's answers: sentences, Markdown to plain text, whether a
sentence is supported by a cited passage, an extractive answer from passages, and
whether a sentence makes a grammar claim. Pure: no ORM, no model.

A small model says fluent things that are wrong. These rules let the tutor say only
what a source says (the learner's documents, the grammar notes, the analysis) and let
the evaluation count what it said that no source says.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from documents.retrieval import STOPWORDS, query_terms

# A sentence ends at . ! ? (and a closing quote or bracket) followed by space and no
# lower-case letter ("Ask 'how long?' and use for" is one sentence), or at a line break;
# a citation marker right after the stop belongs to the sentence before.
_BOUNDARY = re.compile(
    r"(?<=[.!?])(?:[\"'\u201d\u2019)\]]*)(?:\s*\[\d+\])*(?=\s+(?:[^\sa-z]|$))|\n+"
    # A small model forgets the space: "childs.The sentence".
    r"|(?<=[a-z][.!?])(?=[A-Z])"
)
_MARKER = re.compile(r"\s*\[(\d+)\]")
_WORD = re.compile(r"\w+", re.UNICODE)

# Fewer content words than this: a framing line ("Sure!", "Here is what I found."),
# neither supported nor unsupported, and not counted by the faithfulness figure.
MIN_CLAIM_WORDS = 3
# The share of a sentence's content words a cited passage must hold for the sentence to
# be supported by it (inflections and a linking word of the model's own are allowed).
SUPPORT_MIN = 0.8
EXTRACT_SENTENCES = 3
# A sentence is quoted when it holds this share of the query's words, and at least this
# share of what the best sentence holds (the best one is always quoted).
EXTRACT_MIN_COVERAGE = 0.3
EXTRACT_RELATIVE = 0.6


def sentences(text: str) -> list[str]:
    """The sentences (and separate lines) of `text`, stripped, without empty ones."""
    out, start = [], 0
    for match in _BOUNDARY.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


def plain(text: str) -> str:
    """Markdown as the text a reader sees: no heading marks, emphasis, code ticks, link
    targets, list or quote markers; whitespace collapsed."""
    text = re.sub(r"(?m)^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"\\([\\`*_\[\]#])", r"\1", text)
    return " ".join(text.replace("**", "").split())


def content_words(text: str) -> list[str]:
    """The words that carry a sentence's claim: no stopwords, markers or leading label
    ("Tip:", "Example:" name a part of the answer, they claim nothing)."""
    text = _LABEL.sub("", plain(_MARKER.sub("", text)))
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


_LABEL = re.compile(r"^\W*\w+:\s+")


def cited(sentence: str) -> list[int]:
    return [int(n) for n in _MARKER.findall(sentence)]


def support(sentence: str, passages: dict[int, str]) -> bool | None:
    """Whether a cited passage (any passage, when the sentence cites none) holds the
    sentence's content words; None for a framing line too short to say anything."""
    words = content_words(sentence)
    if len(words) < MIN_CLAIM_WORDS:
        return None
    numbers = [n for n in cited(sentence) if n in passages] or list(passages)
    for n in numbers:
        held = set(content_words(passages[n]))
        if sum(_held(w, held) for w in words) / len(words) >= SUPPORT_MIN:
            return True
    return False


def _held(word: str, held: set[str]) -> bool:
    if word in held:
        return True
    # "tenses" for "tense", "used" for "use": the same word inflected.
    stem = word.rstrip("s") if len(word) > 4 else word
    return any(h.startswith(stem) or word.startswith(h) for h in held if len(h) > 3)


@dataclass(frozen=True)
class Faithfulness:
    supported: int
    unsupported: int

    @property
    def claims(self) -> int:
        return self.supported + self.unsupported

    @property
    def share(self) -> float:
        return self.supported / self.claims if self.claims else 1.0


def faithfulness(answer: str, passages: dict[int, str]) -> Faithfulness:
    """How many of the answer's sentences a cited passage supports."""
    verdicts = [support(s, passages) for s in sentences(answer)]
    return Faithfulness(verdicts.count(True), verdicts.count(False))


# -- an extractive answer -------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    n: int
    text: str
    score: float
    position: int


def extract(query: str, passages: Sequence[tuple[int, str]], *, limit: int = EXTRACT_SENTENCES):
    """The passages' sentences that best answer `query`, in reading order: each sentence
    ranked by the share of the query's words it holds, ties by the passage's retrieval
    rank. At least one sentence is quoted: retrieval found the passages relevant."""
    terms = query_terms(query, min_length=2)
    candidates: list[Quote] = []
    for rank, (n, text) in enumerate(passages):
        for position, sentence in enumerate(_quotable(text)):
            coverage = _coverage(terms, sentence)
            # The retrieval's order breaks ties between equally covering sentences.
            candidates.append(Quote(n, sentence, coverage - rank * 1e-3, position))
    if not candidates:
        return []
    best = sorted(candidates, key=lambda q: -q.score)
    bar = max(EXTRACT_MIN_COVERAGE, best[0].score * EXTRACT_RELATIVE)
    chosen = [q for q in best if q.score >= bar][:limit] or best[:1]
    order = {n: i for i, (n, _) in enumerate(passages)}
    return sorted(chosen, key=lambda q: (order[q.n], q.position))


def _quotable(text: str) -> Iterator[str]:
    """The passage's sentences as plain text, without headings and scraps."""
    for block in _blocks(text):
        for sentence in sentences(plain(block)):
            if len(sentence.split()) >= 4:
                yield sentence


_HEADING = re.compile(r"\s{0,3}#{1,6}\s")
_ITEM = re.compile(r"\s{0,3}(?:[-*+>]|\d+[.)])\s")


def _blocks(text: str) -> Iterator[str]:
    """The passage's paragraphs and list items, each on one line. Documents wrap their
    lines (Markdown source, text read from a PDF): a sentence runs on over a line break,
    and quoting one line of it would cut it short."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _HEADING.match(line) or _ITEM.match(line):
            if lines:
                yield " ".join(lines)
            lines = [line] if _ITEM.match(line) else []
        else:
            lines.append(line.strip())
    if lines:
        yield " ".join(lines)


def _coverage(terms: Sequence[str], sentence: str) -> float:
    if not terms:
        return 0.0
    words = set(content_words(sentence))
    return sum(_held(t, words) for t in terms) / len(terms)


def quoted(quotes: Iterable[Quote]) -> str:
    """The quotes as the learner reads them: each its own quoted line, cited by [n]."""
    return "\n\n".join(f"> \u201c{q.text}\u201d [{q.n}]" for q in quotes)


# -- grammar claims --------------------------------------------------------------------------

# What a sentence says when it teaches grammar: the tutor's chat leaves such sentences to
# the analysis (a small model's grammar is the walkthrough's wrong English).
_GRAMMAR = re.compile(
    r"\b(grammar|grammatical\w*|tenses?|verbs?|nouns?|adjectives?|adverbs?|plurals?|singular|"
    r"apostrophes?|articles?|prepositions?|pronouns?|spell\w*|punctuation|conjugat\w*|"
    r"infinitives?|participles?|corrections?|corrected|correctly|correct|incorrect\w*|"
    r"wrong|sentences?|mistakes?|errors?|phrases?|words?|expressions?|idioms?|usage|"
    r"in english|(?:is|are|be) used|means|meaning|accepted|"
    r"should (?:say|write|be)|instead of|the right (?:word|form)|the correct)\b",
    re.IGNORECASE,
)
# A line where a small model starts playing both parts ("Jessica: ...").
ROLE_LINE = re.compile(r"(?m)^\s*[A-Z][\w ]{0,20}:\s")


def grammar_claim(sentence: str) -> bool:
    return bool(_GRAMMAR.search(sentence))


def echoes(sentence: str, learner_text: str) -> bool:
    """The sentence repeats the learner's own words (four or more), mistakes and all, or
    all but a word or two of them: a small model's echo reads as if the tutor approved
    the sentence, and its recast ("He can swim" for "He can to swim") is a correction the
    analysis did not make, which may be wrong and disagrees with the marks."""
    words = _WORD.findall(plain(sentence).lower())
    said = _WORD.findall(learner_text.lower())
    shorter, longer = sorted((" ".join(words), " ".join(said)), key=len)
    if len(shorter.split()) < 4:
        return False
    return shorter in longer or SequenceMatcher(None, words, said).ratio() >= RECAST_SIMILARITY


SHORT_REACTION = 5  # words


def fragment(sentence: str) -> bool:
    """A piece that ends where no sentence ends: a small model's salutation line
    ("Bella,") or a label it never completes ("Note:")."""
    return sentence.rstrip().endswith((",", ":", ";"))


# Word-sequence similarity from which a sentence is the learner's own, recast.
RECAST_SIMILARITY = 0.7


def off_topic(sentence: str, learner_text: str) -> bool:
    """A statement that shares no content word with what the learner said: a small model
    wanders ("I'm sorry for your loss, I am unable to provide a recipe" to a walk in the
    park). Questions are kept (they keep the learner talking), and so are short reactions
    ("That sounds busy!"), and anything when the learner's message has no content word."""
    if sentence.rstrip().endswith("?") or len(_WORD.findall(sentence)) <= SHORT_REACTION:
        return False
    said = {_stem(w) for w in content_words(learner_text)}
    return bool(said) and not said & {_stem(w) for w in content_words(plain(sentence))}


def _stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def leaks(sentence: str, instructions: str, *, run: int = 4) -> bool:
    """The sentence repeats `run` words in a row of the model's instructions (a small
    model recites its system prompt: "never speak about the learner's part...")."""
    words = _WORD.findall(plain(sentence).lower())
    told = " " + " ".join(_WORD.findall(instructions.lower())) + " "
    return any(f" {' '.join(words[i : i + run])} " in told for i in range(len(words) - run + 1))
