"""What a model may add to a built lesson, item by item, each checked like a built item.

The built core stands on its own; a model that can write may add problems and worked
examples. Each is kept only when it passes: a problem's key in its blank gives a
sentence the model-free detectors find nothing wrong in; each other option put back
gives an ERRANT edit of the focus's family (so it is wrong, and wrong in the way the
lesson teaches); options are distinct with the key once. A worked example's correction
must fix a mistake of the family. What fails is dropped with its reason, for staff.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from teaching.core.builder import MAX_EXAMPLES, put_back
from teaching.core.rules import MAX_BLANK_CHARS, MAX_BLANK_WORDS, normalise
from teaching.core.schemas import BLANK, ModuleContent, Problem, WorkedExample

Annotate = Callable[[Sequence[tuple[str, str]]], list[tuple[Any, ...]]]
Propose = Callable[[Sequence[str]], list[list[str]]]

ACCEPTED_KINDS = ("multiple_choice", "fill_blank")
MAX_PROBLEMS = ModuleContent.model_fields["problems"].metadata[-1].max_length

Item = TypeVar("Item")


@dataclass
class Additions:
    problems: list[Problem] = field(default_factory=list)
    examples: list[WorkedExample] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)  # {"item", "reason"}

    def log(self) -> dict:
        return {
            "added": [p.prompt for p in self.problems] + [e.wrong for e in self.examples],
            "dropped": self.dropped,
        }


def accept(
    built: ModuleContent,
    offered: ModuleContent,
    family: str,
    *,
    annotate: Annotate,
    propose: Propose,
) -> Additions:
    """The model's items that pass, within the lesson's limits."""
    out = Additions()
    _take(
        offered.problems,
        built.problems,
        out.problems,
        out.dropped,
        room=MAX_PROBLEMS,
        plural="problems",
        text=lambda problem: problem.prompt,
        fault=lambda problem, seen: _problem_fault(problem, family, seen, annotate, propose),
    )
    _take(
        offered.examples,
        built.examples,
        out.examples,
        out.dropped,
        room=MAX_EXAMPLES,
        plural="examples",
        text=lambda example: example.wrong,
        fault=lambda example, known: _example_fault(example, family, known, annotate),
    )
    return out


def _take(
    offered: Sequence[Item],
    built: Sequence[Item],
    kept: list[Item],
    dropped: list[dict],
    *,
    room: int,
    plural: str,
    text: Callable[[Item], str],
    fault: Callable[[Item, set[str]], str | None],
) -> None:
    """Keeps each offered item that has no fault, is not in the lesson yet and still fits;
    notes why each other one is dropped."""
    seen = {normalise(text(item)) for item in built}
    for item in offered:
        reason = fault(item, seen)
        if reason is None and len(built) + len(kept) >= room:
            reason = f"the lesson has as many {plural} as it can hold"
        if reason:
            dropped.append({"item": text(item), "reason": reason})
            continue
        seen.add(normalise(text(item)))
        kept.append(item)


def merged(built: ModuleContent, additions: Additions) -> ModuleContent:
    return built.model_copy(
        update={
            "problems": [*built.problems, *additions.problems],
            "examples": [*built.examples, *additions.examples],
        }
    )


def _problem_fault(
    problem: Problem, family: str, seen: set[str], annotate: Annotate, propose: Propose
) -> str | None:
    if problem.kind not in ACCEPTED_KINDS:
        return f"{problem.kind} items are not taken from the model"
    if normalise(problem.prompt) in seen:
        return "the lesson already has this item"
    if problem.prompt.count(BLANK) != 1:
        return f"needs exactly one {BLANK}"
    key = problem.answer.strip()
    if len(key) > MAX_BLANK_CHARS or len(key.split()) > MAX_BLANK_WORDS:
        return "the answer does not fit a blank"
    start = problem.prompt.index(BLANK)
    filled = put_back(problem.prompt, start, start + len(BLANK), key)
    if propose([filled])[0]:
        return f"with its answer, {filled!r} still looks wrong to the detectors"
    if problem.kind == "fill_blank":
        return None
    options = [normalise(o) for o in problem.options]
    if len(options) < 2 or len(set(options)) != len(options):
        return "options repeat or are fewer than two"
    if options.count(normalise(key)) != 1:
        return "the answer is not one of the options"
    others = [o for o in problem.options if normalise(o) != normalise(key)]
    puts = [put_back(problem.prompt, start, start + len(BLANK), o) for o in others]
    for option, edits in zip(others, annotate([(p, filled) for p in puts]), strict=True):
        if not any(e.error_type == family for e in edits):
            return f"{option!r} is not a {family.replace('_', ' ')} mistake there"
    return None


def _example_fault(
    example: WorkedExample, family: str, known: set[str], annotate: Annotate
) -> str | None:
    if normalise(example.wrong) in known:
        return "the lesson already has this example"
    if not any(e.error_type == family for e in annotate([(example.wrong, example.right)])[0]):
        return f"its correction fixes no {family.replace('_', ' ')} mistake"
    return None
