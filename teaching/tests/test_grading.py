"""A rewritten sentence graded with ERRANT: right, still wrong (and what), another way of
writing it right; wired into practice and the per-answer check."""

import pytest

from teaching.core.grading import grade_rewrite
from teaching.models import PracticeAttempt
from teaching.services import learning
from teaching.tests.helpers import module_row

CORRECTION = "She has two brothers and she doesn't like football."


def test_the_correction_itself_is_right_whatever_the_case_and_final_stop():
    assert grade_rewrite(CORRECTION, CORRECTION).correct
    assert grade_rewrite("she has two brothers and she doesn't like football", CORRECTION).correct
    assert grade_rewrite("She has two brothers and she doesn't like football!", CORRECTION).correct


def test_another_right_way_of_writing_it_is_right():
    answer = "She has two brothers and she does not like football."
    assert grade_rewrite(answer, CORRECTION) == grade_rewrite(CORRECTION, CORRECTION)


def test_a_sentence_still_wrong_is_wrong_and_the_feedback_names_what():
    graded = grade_rewrite("She have two brothers and she doesn't like football.", CORRECTION)
    assert not graded.correct
    assert len(graded.feedback) == 1 and "has" in graded.feedback[0]
    assert "have" in graded.feedback[0]

    two = grade_rewrite("She have two brother and she doesn't like football.", CORRECTION)
    assert not two.correct and len(two.feedback) == 2


def test_a_mistake_inside_the_sentence_is_not_excused_as_punctuation():
    graded = grade_rewrite("She has two brothers, and she doesn't like football.", CORRECTION)
    assert not graded.correct


def test_an_empty_answer_is_wrong_with_a_hint():
    graded = grade_rewrite("   ", CORRECTION)
    assert not graded.correct and graded.feedback


@pytest.fixture
def rewrite_module(alice):
    module = module_row(alice)
    content = dict(module.content)
    content["problems"] = [
        *content["problems"][:2],
        {
            "kind": "rewrite",
            "prompt": "Yesterday I go to the market.",
            "answer": "Yesterday I went to the market.",
            "rationale": "Past simple for a finished time.",
        },
    ]
    module.content = content
    module.save(update_fields=["content"])
    return module


def test_practice_grades_a_rewrite_with_errant(alice, rewrite_module):
    answers = ["went", "ate", "yesterday I went to the market"]
    attempt = learning.practice_submit(learner=alice, module=rewrite_module, answers=answers)
    assert attempt.correct == 3

    wrong = ["went", "ate", "Yesterday I goes to the market."]
    attempt = learning.practice_submit(learner=alice, module=rewrite_module, answers=wrong)
    assert attempt.correct == 2 and "goes" in attempt.answers[2]["feedback"][0]


def test_one_answer_is_checked_as_you_go_and_nothing_is_stored(alice, api, rewrite_module):
    url = f"/api/v1/modules/{rewrite_module.pk}/practice/check/"
    right = api.post(url, {"index": 2, "answer": "Yesterday I went to the market"}, format="json")
    assert right.status_code == 200 and right.json()["correct"] is True
    still = api.post(url, {"index": 2, "answer": "Yesterday I go to market."}, format="json")
    assert still.json()["correct"] is False and len(still.json()["feedback"]) == 2
    assert api.post(url, {"index": 7, "answer": "x"}, format="json").status_code == 400
    assert api.post(url, {"index": 0, "answer": "x" * 301}, format="json").status_code == 400
    assert PracticeAttempt.objects.count() == 0


def test_another_learners_lesson_cannot_be_checked(bob, api, rewrite_module):
    api.force_authenticate(bob)
    url = f"/api/v1/modules/{rewrite_module.pk}/practice/check/"
    assert api.post(url, {"index": 0, "answer": "went"}, format="json").status_code == 404


def test_the_practice_page_renders_words_to_tap_and_a_sentence_to_rewrite(alice, client):
    module = module_row(alice)
    content = dict(module.content)
    content["problems"] = [
        *content["problems"][:2],
        {
            "kind": "spot_mistake",
            "prompt": "Yesterday I go home.",
            "answer": "go",
            "rationale": "r",
        },
        {
            "kind": "rewrite",
            "prompt": "I go home yesterday.",
            "answer": "I went home.",
            "rationale": "r",
        },
    ]
    module.content = content
    module.save(update_fields=["content"])
    client.force_login(alice)
    page = client.get(f"/lessons/{module.pk}/").content.decode()

    assert page.count('class="spot-word"') == 4 and 'value="go"' in page
    assert 'data-kind="rewrite"' in page and 'class="rewrite"' in page
    assert f'data-check-url="/api/v1/modules/{module.pk}/practice/check/"' in page
