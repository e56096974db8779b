"""Module contents the tests start from: one good module, and ways to break it."""

from teaching.core.schemas import ModuleContent


def good_module(**changes) -> dict:
    data = {
        "title": "Talking about yesterday: the past simple",
        "learner_sentence": "Yesterday I go to the market.",
        "correction": "Yesterday I went to the market.",
        "explanation": (
            "When you talk about something that already happened, use the past simple. "
            "The verb go becomes went in the past."
        ),
        "examples": [
            {
                "wrong": "Last week I see a film.",
                "right": "Last week I saw a film.",
                "note": "see becomes saw",
            },
            {
                "wrong": "She buy bread yesterday.",
                "right": "She bought bread yesterday.",
                "note": "buy becomes bought",
            },
        ],
        "problems": [
            {
                "kind": "multiple_choice",
                "prompt": "Yesterday we ___ to the beach.",
                "options": ["go", "went", "goes"],
                "answer": "went",
                "rationale": "Yesterday is in the past, so we use went.",
            },
            {
                "kind": "fill_blank",
                "prompt": "Last night I ___ (eat) pasta.",
                "options": [],
                "answer": "ate",
                "rationale": "The past of eat is ate.",
            },
            {
                "kind": "multiple_choice",
                "prompt": "Two days ago he ___ me a letter.",
                "options": ["writes", "wrote", "write"],
                "answer": "wrote",
                "rationale": "Two days ago is finished time: wrote.",
            },
        ],
        "tips": ["Look for time words like yesterday or last week."],
    }
    data.update(changes)
    return data


def content(**changes) -> ModuleContent:
    return ModuleContent.model_validate(good_module(**changes))


def judge(score: int = 4, verdict: str = "validated", problems: list | None = None) -> dict:
    return {
        "scores": {"correctness": score, "clarity": score, "level_fit": score, "pedagogy": score},
        "verdict": verdict,
        "problems": problems or [],
    }
