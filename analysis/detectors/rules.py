"""Rules over spaCy's parse for mistakes learners make and the other detectors miss.

Each rule is a piece of English grammar, not a list of sentences:

- number after a numeral or a plural quantifier: "two brother", "many student" ->
  plural (lemminflect's plural of the noun's lemma);
- a plural after "one of the", "each of my", ...: "one of my friend" -> "friends";
- nouns English does not count: "informations", "advices" -> singular;
- a singular determiner before a plural noun: "this people" -> "these", "much books" ->
  "many", "every students" -> "every student"; "an other" -> "another";
- a regular past built on an irregular verb: "goed", "teached", "choosed" -> the
  irregular form (past participle after a form of *have*);
- the bare infinitive after a modal or a negated *do*: "can goes", "didn't went" ->
  base form; "can to go" -> "can go";
- subject-verb agreement: he/she/it, "everyone" and the like, or a singular noun with a
  base form ("He go") -> third person -s; I/you/we/they or a plural noun with -s ("They
  goes") -> base form; be/have/do likewise after a pronoun or "people" ("People is",
  "Everyone have", "They was").
  Only for plain subjects the dictionary knows (no "and", no relative clause, no
  quantifier such as "most": "most student make" is as likely a slip of the noun).

- a capital letter opening a sentence: "he usually brings" -> "He usually brings";
- words written as one: "any thing" -> "anything", "him self" -> "himself";
- no capital on a pronoun, determiner, conjunction or preposition inside a sentence
  ("For example, When I" -> "when");
- a full stop ending a statement of five words or more;
- a comma after a connective opening a sentence: "However I think" -> "However, I
  think", "For example if" -> "For example, if".

Proposals are one corrected sentence per text. The parse is spaCy's model ERRANT uses
(analysis.core.annotate), under its lock.
"""

import re
from collections.abc import Sequence
from typing import Any

from analysis.core import annotate

PLURAL_QUANTIFIERS = frozenset(
    {"many", "several", "few", "various", "numerous", "both", "these", "those", "multiple"}
)
NUMBER_WORDS = frozenset(
    (
        *("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"),
        *("twelve", "twenty", "thirty", "forty", "fifty", "hundred", "hundreds", "thousand"),
        *("thousands", "million", "millions", "dozens"),
    )
)
# Nouns standard English does not count (no plural in -s).
UNCOUNTABLE = frozenset(
    (
        *("information", "advice", "furniture", "equipment", "knowledge", "homework"),
        *("luggage", "baggage", "evidence", "feedback", "vocabulary", "scenery", "machinery"),
        *("traffic", "garbage", "rubbish", "jewelry", "jewellery", "clothing", "wildlife"),
    )
)
SINGULAR_PRONOUNS = frozenset({"he", "she", "it"})
PLURAL_PRONOUNS = frozenset({"you", "we", "they"})
INDEFINITE_PRONOUNS = frozenset(
    (
        *("everyone", "everybody", "everything", "someone", "somebody", "something"),
        *("anyone", "anybody", "anything", "nobody", "nothing"),
    )
)
# Pronouns, determiners, conjunctions, prepositions, wh-words and modals.
CLOSED_CLASS_TAGS = frozenset({"PRP", "PRP$", "DT", "IN", "CC", "WRB", "WDT", "WP", "MD"})
# Words English writes as one that learners split ("any thing", "him self"). Pairs that
# are also two words ("may be", "every one of", "any body of water") are not here.
SPLIT_WORDS = frozenset(
    tuple(pair.split())
    for pair in (
        *("any thing", "every thing", "some thing", "some one", "him self", "her self"),
        *("my self", "your self", "it self", "them selves", "our selves", "there fore"),
        *("with out", "home work", "every where", "any where", "some where"),
    )
)
# A message shorter than this may be a chat reply, not a sentence.
MIN_WORDS_FOR_STOP = 5
QUESTION_OPENERS = frozenset(
    (
        *("do", "does", "did", "is", "are", "was", "were", "can", "could", "will"),
        *("would", "should", "have", "has", "may", "shall", "who", "what", "why", "how"),
        *("when", "where", "which"),
    )
)
# Connectives a comma follows at the start of a sentence.
CONNECTIVES = tuple(
    tuple(phrase.split())
    for phrase in (
        *("for example", "for instance", "however", "moreover", "furthermore"),
        *("nevertheless", "nonetheless", "in addition", "in conclusion", "in my opinion"),
        *("on the other hand", "in other words", "in contrast", "on the contrary"),
        *("consequently", "additionally"),
    )
)
# A determiner that does not go with a plural noun, and the one that does.
PLURAL_DETERMINERS = {"this": "these", "that": "those", "much": "many"}
KIND_NOUNS = frozenset({"kind", "sort", "type"})
IRREGULAR_PLURALS = frozenset({"people", "children", "men", "women", "feet", "teeth", "mice"})
# Determiners that make a subject's own number uncertain.
QUANTIFIERS = frozenset({"most", "all", "some", "many", "several", "few", "both", "any", "no"})
_DIGITS = re.compile(r"^\d+([.,]\d+)?$")


def detect(texts: Sequence[str], **context: Any) -> list[list[str]]:
    docs = annotate.parse(texts)
    out = []
    for text, doc in zip(texts, docs, strict=True):
        changes = sorted(_changes(doc))
        corrected, last = text, len(text) + 1
        for start, end, replacement in reversed(changes):
            if end > last:
                continue  # overlaps a later change
            corrected = corrected[:start] + replacement + corrected[end:]
            last = start
        out.append([corrected] if corrected != text else [])
    return out


def _changes(doc: Any) -> list[tuple[int, int, str]]:
    found = _introductory_commas(doc) + _sentence_capitals(doc) + _inner_capitals(doc)
    found += _final_stop(doc)
    for token in doc:
        if not token.text.isalpha():
            continue
        replacement = (
            _plural_after_quantity(token)
            or _plural_after_one_of(token)
            or _uncountable(token)
            or _number_after_determiner(token)
            or _irregular_past(token)
            or _base_after_modal(token)
            or _agreement(token)
        )
        if replacement and replacement != token.text:
            found.append(
                (token.idx, token.idx + len(token.text), _case_like(token.text, replacement))
            )
        else:
            found.extend(_phrase(token))
    return found


def _final_stop(doc: Any) -> list[tuple[int, int, str]]:
    """A statement of a few words ends with a full stop ("...understand the book" ->
    "...book."). A short reply ("ok thanks") and a question (its mark is the learner's
    to choose) are left alone."""
    words = [t for t in doc if t.is_alpha]
    if len(words) < MIN_WORDS_FOR_STOP or not doc[-1].text.isalnum():
        return []
    first = doc[0].lower_
    if first in QUESTION_OPENERS or any(t.tag_ in ("WP", "WRB", "WDT") for t in doc[:1]):
        return []
    end = doc[-1].idx + len(doc[-1].text)
    return [(end, end, ".")]


def _sentence_capitals(doc: Any) -> list[tuple[int, int, str]]:
    """ "he usually brings" -> "He usually brings": a sentence starts with a capital. Only
    lower-case words the dictionary knows ("iPhone", "e.g." stay)."""
    found = []
    for token in doc:
        if token.i and doc[token.i - 1].text not in (".", "!", "?"):
            continue
        word = token.text
        if word.isalpha() and word.islower() and _known(word):
            found.append((token.idx, token.idx + 1, word[0].upper()))
    return found


def _inner_capitals(doc: Any) -> list[tuple[int, int, str]]:
    """ "For example, When I was" -> "when": inside a sentence a pronoun, determiner,
    conjunction or preposition takes no capital ("I" aside; "The" may open a name)."""
    found = []
    for token in doc[1:]:
        word, before = token.text, doc[token.i - 1]
        if not (word[:1].isupper() and word[1:].islower()) or word in ("I", "The"):
            continue
        if before.text in (".", "!", "?", ":") or before.is_quote:
            continue
        if token.tag_ in CLOSED_CLASS_TAGS and token.pos_ != "PROPN":
            found.append((token.idx, token.idx + 1, word[0].lower()))
    return found


def _introductory_commas(doc: Any) -> list[tuple[int, int, str]]:
    """ "However I think" -> "However, I think": a connective opening a sentence is set off
    by a comma."""
    found = []
    for token in doc:
        if token.i and doc[token.i - 1].text not in (".", "!", "?"):
            continue
        for phrase in CONNECTIVES:
            end = token.i + len(phrase)
            if end >= len(doc) or [t.lower_ for t in doc[token.i : end]] != list(phrase):
                continue
            after = doc[end]
            if after.is_punct or after.lower_ == "to":
                break  # "In addition to this", or already punctuated
            if phrase == ("however",) and after.tag_ in ("JJ", "RB", "JJR", "RBR"):
                break  # "However hard he tries": degree, not contrast
            last = doc[end - 1]
            found.append((last.idx + len(last.text), last.idx + len(last.text), ","))
            break
    return found


def _phrase(token: Any) -> list[tuple[int, int, str]]:
    """Changes of more than one word: "an other" -> "another", "can to go" -> "can go"."""
    doc, i = token.doc, token.i
    after = doc[i + 1] if i + 1 < len(doc) else None
    word = token.text.lower()
    if after is not None and (word, after.lower_) in SPLIT_WORDS and token.whitespace_:
        joined = word + after.lower_
        return [(token.idx, after.idx + len(after.text), _case_like(token.text, joined))]
    if word == "an" and after is not None and after.text.lower() == "other":
        return [(token.idx, after.idx + len(after.text), _case_like(token.text, "another"))]
    if word == "to" and token.tag_ == "TO" and i and after is not None:
        before = doc[i - 1]
        # A modal takes the bare infinitive: "can to go", "must to study" ("ought to" is
        # the one modal with "to").
        if before.tag_ == "MD" and before.lower_ != "ought" and after.tag_ == "VB":
            return [(before.idx + len(before.text), token.idx + len(token.text), "")]
    return []


def _number_after_determiner(token: Any) -> str:
    """ "this people" -> "these", "much books" -> "many", "every students" -> "student":
    the determiner's number and the noun's must match. The noun is a plural the dictionary
    knows in -s or an irregular plural, heading its own phrase."""
    if token.pos_ == "DET" or token.tag_ in ("DT", "JJ", "RB"):
        noun = token.head
        if token.dep_ not in ("det", "amod") or noun.i != token.i + 1 or not _plural(noun):
            return ""
        if noun.lemma_.lower() in KIND_NOUNS:
            return ""  # "that kinds of problem": "that kind" as likely as "those kinds"
        return PLURAL_DETERMINERS.get(token.text.lower(), "")
    if token.tag_ == "NNS" and _plural(token) and token.dep_ != "compound":
        determiners = [c for c in token.children if c.dep_ == "det" and c.i == token.i - 1]
        if determiners and determiners[0].text.lower() in ("every", "each"):
            singular = _inflect(token.lemma_.lower(), "NN")
            return singular if singular and singular != token.text.lower() else ""
    return ""


def _plural(noun: Any) -> bool:
    word = noun.text.lower()
    return (
        noun.tag_ == "NNS"
        and noun.pos_ == "NOUN"
        and noun.dep_ != "compound"
        and (word != noun.lemma_.lower() or word in IRREGULAR_PLURALS)
        and _known(word)
    )


def _inflect(lemma: str, tag: str) -> str:
    from lemminflect import getInflection

    forms = getInflection(lemma, tag=tag)
    return forms[0] if forms else ""


def _plural_after_quantity(token: Any) -> str:
    if token.tag_ != "NN" or token.pos_ != "NOUN" or token.lemma_.lower() in UNCOUNTABLE:
        return ""
    markers = [c for c in token.children if c.dep_ in ("nummod", "amod", "det") and c.i < token.i]
    if not any(_plural_marker(c) for c in markers):
        return ""
    # "two hour drive", "ten year old": a noun modifying another noun stays singular.
    if token.dep_ in ("compound", "amod", "npadvmod") or token.head.i == token.i + 1:
        return ""
    plural = _inflect(token.lemma_.lower(), "NNS")
    return plural if plural and plural != token.text.lower() else ""


def _plural_after_one_of(token: Any) -> str:
    """ "one of my friend" -> "friends": one of several, so the noun is plural. Not after
    "some of"/"most of", which take mass nouns too ("most of the time")."""
    if token.tag_ != "NN" or token.pos_ != "NOUN" or token.dep_ != "pobj":
        return ""
    of = token.head
    if of.lower_ != "of" or of.head.lower_ not in ("one", "each", "many", "several"):
        return ""
    word = token.text.lower()
    if token.lemma_.lower() in UNCOUNTABLE or not _known(word):
        return ""
    if not any(c.dep_ in ("det", "poss") and c.i < token.i for c in token.children):
        return ""  # "one of us", "some of it": no noun phrase of a count noun
    plural = _inflect(token.lemma_.lower(), "NNS")
    return plural if plural and plural != word else ""


def _plural_marker(token: Any) -> bool:
    word = token.text.lower()
    if word in PLURAL_QUANTIFIERS or word in NUMBER_WORDS:
        return True
    return bool(_DIGITS.match(word)) and word not in ("1", "1.0", "0")


def _uncountable(token: Any) -> str:
    word = token.text.lower()
    if token.pos_ != "NOUN" or not word.endswith("s"):
        return ""
    for lemma in UNCOUNTABLE:
        if word in (lemma + "s", lemma + "es"):
            return lemma
    return ""


def _irregular_past(token: Any) -> str:
    """ "goed" -> "went": a verb with a regular -ed its lemma does not take."""
    word = token.text.lower()
    if not word.endswith("ed") or token.pos_ not in ("VERB", "AUX", "ADJ", "NOUN", "PROPN"):
        return ""
    if _known(word):
        return ""  # "bed", "need", "shed": words of their own
    from lemminflect import getAllInflections

    for lemma in (word[:-2], word[:-1], word[:-3] if word[-3:-2] == word[-4:-3] else ""):
        if len(lemma) < 2 or not _known(lemma):
            continue
        forms = getAllInflections(lemma, upos="VERB")
        past, participle = forms.get("VBD", ()), forms.get("VBN", ())
        if not past or word in past or word in participle or past[0].endswith("ed"):
            continue
        after_have = any(
            c.lemma_.lower() == "have" and c.dep_ == "aux" for c in token.children
        ) or (token.i and token.doc[token.i - 1].lemma_.lower() == "have")
        return (participle or past)[0] if after_have else past[0]
    return ""


def _base_after_modal(token: Any) -> str:
    """ "can goes", "did not went" -> the base form: after a modal or *do*, English puts
    the verb's bare infinitive."""
    if token.tag_ not in ("VBZ", "VBD") or not _known(token.text):
        return ""
    auxiliaries = [c for c in token.children if c.dep_ == "aux" and c.i < token.i]
    negated = any(c.dep_ == "neg" for c in token.children)
    # "I did went" more likely means "I went" than "I did go": *do* only with a negation.
    if not any(c.tag_ == "MD" or (c.lemma_.lower() == "do" and negated) for c in auxiliaries):
        return ""
    base = _inflect(token.lemma_.lower(), "VB")
    return base if base and base != token.text.lower() else ""


def _agreement(token: Any) -> str:
    if token.tag_ not in ("VBP", "VBZ", "VBD"):
        return ""
    lemma, word = token.lemma_.lower(), token.text.lower()
    if lemma in ("be", "have", "do"):
        return _auxiliary_agreement(token, lemma, word)
    if token.tag_ == "VBD" or any(c.dep_ == "aux" for c in token.children):
        return ""
    number = _subject_number(token)
    if not number or not _known(token.text):
        return ""  # a misspelt verb is the spelling detector's
    if token.tag_ == "VBP" and number == "singular" and word == lemma:
        return _inflect(lemma, "VBZ")
    if token.tag_ == "VBZ" and number in ("plural", "i") and word != lemma:
        return _inflect(lemma, "VBP")
    return ""


# be/have/do: the form for each subject. "were" after a singular subject is left alone
# ("if he were": the subjunctive).
_AUXILIARY_FORMS = {
    ("i", "is"): "am",
    ("i", "are"): "am",
    ("i", "has"): "have",
    ("i", "does"): "do",
    ("singular", "are"): "is",
    ("plural", "is"): "are",
    ("plural", "was"): "were",
    ("singular", "have"): "has",
    ("plural", "has"): "have",
    ("singular", "do"): "does",
    ("plural", "does"): "do",
}


def _auxiliary_agreement(token: Any, lemma: str, word: str) -> str:
    """ "People is", "Everyone have", "They was" -> the form agreeing with the subject, for
    be/have/do as a main verb or as the first auxiliary ("People is going")."""
    if token.dep_ in ("aux", "auxpass"):
        head = token.head
        if any(c.dep_ in ("aux", "auxpass") and c.i < token.i for c in head.children):
            return ""  # "he will have": only the first auxiliary agrees
        number = _subject_number(head, pronouns_only=True)
    else:
        if any(c.dep_ in ("aux", "auxpass") for c in token.children):
            return ""
        number = _subject_number(token, pronouns_only=True)
    return _AUXILIARY_FORMS.get((number, word), "") if number else ""


def _subject_number(verb: Any, *, pronouns_only: bool = False) -> str:
    """ "singular", "plural", "i" or "" (not sure) for the verb's one plain subject: a pronoun,
    an indefinite pronoun or a common noun the dictionary knows, without "and", a relative
    clause, a prepositional phrase or a quantifier ("most student", "all child": there the
    noun's number is the slip as likely as the verb's). With `pronouns_only`, a pronoun or
    "people": before be/have/do a noun's number is as often the slip ("The second points
    is", "their purpose have")."""
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    if len(subjects) != 1:
        return ""
    subject = subjects[0]
    if any(c.dep_ in ("conj", "cc", "relcl", "acl", "prep") for c in subject.children):
        return ""
    if any(c.text.lower() in QUANTIFIERS for c in subject.children):
        return ""
    word = subject.text.lower()
    if word in SINGULAR_PRONOUNS or word in INDEFINITE_PRONOUNS:
        return "singular"
    if word == "i":
        return "i"
    if word in PLURAL_PRONOUNS or word == "people":
        return "plural"
    if pronouns_only:
        return ""
    if subject.pos_ != "NOUN" or not _known(word):
        return ""  # "wich pollute": a misspelt relative pronoun, not a noun
    if subject.tag_ == "NN":
        return "singular"
    # A plural in -s, or an irregular one ("people", "children"); "species", "series"
    # read as plural only by their tag are left alone.
    if subject.tag_ == "NNS" and (word != subject.lemma_.lower() or word in IRREGULAR_PLURALS):
        return "plural"
    return ""


def _known(word: str) -> bool:
    checker = annotate.spellchecker("en")
    return checker is None or word.lower() in checker


def _case_like(original: str, word: str) -> str:
    return word[0].upper() + word[1:] if original[:1].isupper() else word
