"""The shapes the model must fill: focus choices, a teaching module, the judge's verdict.

Strict pydantic models with length limits on every string and list: the limits become
`maxLength`/`maxItems` in the JSON schema, which keeps a small model's constrained
decoding short instead of repeating itself until `max_tokens` cuts the JSON.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Option = Annotated[str, Field(min_length=1, max_length=60)]
Line = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- Focus selection ---------------------------------------------------------------------


class FocusChoice(_Strict):
    group: int = Field(ge=1, le=20, description="the number of the mistake group")
    reason: str = Field(min_length=1, max_length=160, description="one line: why teach it now")


class FocusSelection(_Strict):
    focuses: list[FocusChoice] = Field(max_length=5)


# -- Modules -----------------------------------------------------------------------------

# spot_mistake: the prompt is a sentence with one wrong word, the answer that word;
# rewrite: the prompt is the learner's sentence, the answer its correction (graded with
# ERRANT, so another way of writing it right is right too).
ProblemKind = Literal["multiple_choice", "fill_blank", "spot_mistake", "rewrite"]
BLANK = "___"


class WorkedExample(_Strict):
    wrong: str = Field(min_length=1, max_length=200)
    right: str = Field(min_length=1, max_length=200)
    note: str = Field(min_length=1, max_length=200)


class Problem(_Strict):
    kind: ProblemKind
    prompt: str = Field(min_length=1, max_length=300)
    # Multiple choice: 2-4 options, the answer among them. The other kinds: no options.
    options: list[Option] = Field(default_factory=list, max_length=4)
    answer: str = Field(min_length=1, max_length=300)
    rationale: str = Field(min_length=1, max_length=240)


class ModuleContent(_Strict):
    title: str = Field(min_length=1, max_length=80)
    learner_sentence: str = Field(min_length=1, max_length=300)
    correction: str = Field(min_length=1, max_length=300)
    explanation: str = Field(min_length=1, max_length=700)
    examples: list[WorkedExample] = Field(min_length=2, max_length=4)
    problems: list[Problem] = Field(min_length=3, max_length=8)
    tips: list[Line] = Field(min_length=1, max_length=3)


# -- Validation --------------------------------------------------------------------------


class JudgeScores(_Strict):
    correctness: int = Field(ge=1, le=5)
    clarity: int = Field(ge=1, le=5)
    level_fit: int = Field(ge=1, le=5)
    pedagogy: int = Field(ge=1, le=5)


class JudgeVerdict(_Strict):
    scores: JudgeScores
    verdict: Literal["validated", "rejected"]
    problems: list[Line] = Field(default_factory=list, max_length=5)
