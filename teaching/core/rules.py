"""Rule checks of a generated module: pure functions over the module's content.

Each check says pass or fail and why, so the stored validation report explains every
verdict. The language detector and ERRANT are passed in (defaults: lingua and ERRANT),
which keeps the checks testable on their own.
"""

import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from teaching.core.families import families as known_families
from teaching.core.language import detect as detect_language
from teaching.core.schemas import BLANK, ModuleContent, Problem

MAX_BLANK_WORDS = 4
MAX_BLANK_CHARS = 40

Detect = Callable[..., str | None]
Families = Callable[..., set[str] | None]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def normalise(text: str) -> str:
    """Case, spacing and surrounding punctuation do not make two answers different."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(string.punctuation + " \u201c\u201d\u2018\u2019")


def module_key(title: str, error_type: str) -> str:
    """What makes two modules of a learner the same lesson."""
    return f"{error_type}|{normalise(title)}"


def all_passed(checks: Iterable[Check]) -> bool:
    return all(check.passed for check in checks)


# -- Problems ----------------------------------------------------------------------------


def _choices(content: ModuleContent) -> list[tuple[int, Problem]]:
    return [(i, p) for i, p in enumerate(content.problems, 1) if p.kind == "multiple_choice"]


def _matches(problem: Problem) -> int:
    answer = normalise(problem.answer)
    return sum(1 for option in problem.options if normalise(option) == answer)


def check_options_unique(content: ModuleContent) -> Check:
    bad = []
    for number, problem in _choices(content):
        options = [normalise(o) for o in problem.options]
        if len(options) < 2 or len(set(options)) != len(options):
            bad.append(number)
    if bad:
        return Check("options_unique", False, f"problem(s) {_list(bad)}: options repeat or < 2")
    return Check("options_unique", True, "every multiple-choice problem has distinct options")


def check_answer_in_options(content: ModuleContent) -> Check:
    bad = [n for n, p in _choices(content) if _matches(p) == 0]
    if bad:
        return Check("answer_in_options", False, f"problem(s) {_list(bad)}: answer not an option")
    return Check("answer_in_options", True, "every answer is one of its options")


def check_single_correct(content: ModuleContent) -> Check:
    bad = [n for n, p in _choices(content) if _matches(p) > 1]
    if bad:
        return Check(
            "single_correct_answer",
            False,
            f"problem(s) {_list(bad)}: more than one option is right",
        )
    return Check("single_correct_answer", True, "exactly one correct option per problem")


def check_blanks(content: ModuleContent) -> Check:
    bad = []
    for number, problem in enumerate(content.problems, 1):
        if problem.kind != "fill_blank":
            continue
        answer = problem.answer.strip()
        fits = (
            problem.prompt.count(BLANK) == 1
            and BLANK not in answer
            and len(answer) <= MAX_BLANK_CHARS
            and len(answer.split()) <= MAX_BLANK_WORDS
        )
        if not fits:
            bad.append(number)
    if bad:
        return Check(
            "blank_fits",
            False,
            f"problem(s) {_list(bad)}: needs one {BLANK} and an answer of at most "
            f"{MAX_BLANK_WORDS} words",
        )
    return Check("blank_fits", True, "every fill-in answer fits its one blank")


_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


def check_spots(content: ModuleContent) -> Check:
    """A spot-the-mistake answer is one word that the sentence holds exactly once, so
    tapping it is the one right answer."""
    bad = []
    for number, problem in enumerate(content.problems, 1):
        if problem.kind != "spot_mistake":
            continue
        words = [w.casefold() for w in _WORD.findall(problem.prompt)]
        answer = _WORD.findall(problem.answer)
        if len(answer) != 1 or words.count(answer[0].casefold()) != 1:
            bad.append(number)
    if bad:
        return Check("spot_fits", False, f"problem(s) {_list(bad)}: the word is not in it once")
    return Check("spot_fits", True, "every wrong word to spot is in its sentence once")


def check_rewrites(content: ModuleContent) -> Check:
    bad = [
        n
        for n, p in enumerate(content.problems, 1)
        if p.kind == "rewrite" and normalise(p.prompt) == normalise(p.answer)
    ]
    if bad:
        return Check("rewrite_differs", False, f"problem(s) {_list(bad)}: nothing to correct")
    return Check("rewrite_differs", True, "every sentence to correct has a mistake")


# -- Language and correction -------------------------------------------------------------


# Quoted words ("“has”", *has*, "has") are the English the lesson is about, not the
# language it is explained in: a Korean rule quoting five English examples read as English.
_QUOTED = re.compile(r"\u201c[^\u201d]*\u201d|\*[^*]*\*|\"[^\"]*\"")


def explained_text(text: str) -> str:
    """The explanation without its quoted words (all of it when nothing else is left)."""
    bare = _QUOTED.sub(" ", text)
    return bare if any(ch.isalpha() for ch in bare) else text


def check_language(
    content: ModuleContent, *, language: str, among: set[str], detect: Detect
) -> Check:
    found = detect(explained_text(content.explanation), among=among | {language})
    if found != language:
        return Check(
            "explanation_language", False, f"explanation is in {found or 'unknown'}, not {language}"
        )
    return Check("explanation_language", True, f"explanation is in {language}")


def check_correction_differs(content: ModuleContent) -> Check:
    if normalise(content.learner_sentence) == normalise(content.correction):
        return Check("correction_differs", False, "the correction is the same as the sentence")
    return Check("correction_differs", True, "the correction changes the sentence")


def check_learner_sentence(content: ModuleContent, *, sentences: Iterable[str]) -> Check:
    known = {normalise(s) for s in sentences}
    if known and normalise(content.learner_sentence) not in known:
        return Check("learner_sentence", False, "the quoted sentence is not the learner's own")
    return Check("learner_sentence", True, "quotes the learner's own sentence")


def check_family(
    content: ModuleContent, *, error_type: str, language: str, families: Families
) -> Check:
    found = families(content.learner_sentence, content.correction, language=language)
    if found is None:
        return Check("correction_family", True, f"not checked: no ERRANT model for {language}")
    if error_type not in found:
        seen = ", ".join(sorted(found)) or "no edit"
        return Check("correction_family", False, f"ERRANT types the correction as {seen}")
    return Check("correction_family", True, f"ERRANT types the correction as {error_type}")


def check_not_duplicate(content: ModuleContent, *, error_type: str, existing: set[str]) -> Check:
    if module_key(content.title, error_type) in existing:
        return Check("not_duplicate", False, "the learner already has this module")
    return Check("not_duplicate", True, "new to the learner")


# -- All together ------------------------------------------------------------------------

STRUCTURE_CHECKS = (
    check_options_unique,
    check_answer_in_options,
    check_single_correct,
    check_blanks,
    check_spots,
    check_rewrites,
)


def structure_checks(content: ModuleContent) -> list[Check]:
    """The checks a repair request can fix without knowing the learner."""
    return [check(content) for check in STRUCTURE_CHECKS]


def module_checks(
    content: ModuleContent,
    *,
    language: str,
    error_type: str,
    among: set[str],
    sentences: Iterable[str] = (),
    existing: set[str] = frozenset(),
    family_language: str = "",
    detect: Detect | None = None,
    families: Families | None = None,
) -> list[Check]:
    """Every rule check of a module, in the order the report shows them. `language` is
    the explanation's; `family_language` the mistake's (the same unless set)."""
    detect = detect or detect_language
    families = families or known_families
    return [
        *structure_checks(content),
        check_language(content, language=language, among=among, detect=detect),
        check_correction_differs(content),
        check_learner_sentence(content, sentences=sentences),
        check_family(
            content,
            error_type=error_type,
            language=family_language or language,
            families=families,
        ),
        check_not_duplicate(content, error_type=error_type, existing=set(existing)),
    ]


# -- The verdict -----------------------------------------------------------------------

SCORES = ("correctness", "clarity", "level_fit", "pedagogy")


@dataclass(frozen=True)
class Decision:
    passed: bool
    code: str  # "" when passed; else the first failing check's name, or "judge"
    reasons: list[str]


def decide(
    checks: list[Check],
    verdict: dict | None,
    *,
    min_score: int,
    min_mean: float,
    judged: bool = True,
) -> Decision:
    """Validated only when every rule passes and the judge approves with scores at or
    above the minimum, each and on average. No verdict (the judge failed) rejects. A
    lesson that is not judged (`judged` False: built, every item verified) is decided by
    its rules alone."""
    reasons = [f"{c.name}: {c.reason}" for c in checks if not c.passed]
    code = next((c.name for c in checks if not c.passed), "")
    judge = _judge_reasons(verdict, min_score=min_score, min_mean=min_mean) if judged else []
    if judge and not code:
        code = "judge"
    return Decision(passed=not reasons and not judge, code=code, reasons=reasons + judge)


def _judge_reasons(verdict: dict | None, *, min_score: int, min_mean: float) -> list[str]:
    if verdict is None:
        return ["judge: no valid verdict"]
    scores = verdict["scores"]
    reasons = [
        f"judge: {name} scored {scores[name]} (needs {min_score})"
        for name in SCORES
        if scores[name] < min_score
    ]
    mean = sum(scores[name] for name in SCORES) / len(SCORES)
    if mean < min_mean:
        reasons.append(f"judge: mean score {mean:.2f} (needs {min_mean})")
    if verdict["verdict"] != "validated":
        reasons.append("judge: rejected it")
    reasons.extend(
        f"judge: {problem}"
        for problem in verdict.get("problems", [])[:5]
        if verdict["verdict"] != "validated"
    )
    return reasons


def _list(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
