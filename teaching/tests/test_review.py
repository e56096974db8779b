"""A review session: items built again from the cluster's other sentences (else the
stored ones in another order), the explanation held back until the learner answers, and
the FSRS rating from the learner's result."""

import pytest
from django.utils import timezone

from ops.testing import drain_queue
from teaching import services
from teaching.core import builder
from teaching.core.schemas import ModuleContent
from teaching.models import CollectionItem, Module
from teaching.services import learning
from teaching.services import review as reviews
from teaching.tests.analysed import analysed_conversation, sentence
from teaching.tests.helpers import module_row

pytestmark = pytest.mark.django_db(transaction=True)


def built_lesson(user, scripted_llm, *, count: int) -> Module:
    """A lesson the pipeline built (a model that cannot write) from a cluster of `count`
    verb-tense sentences; its items use the focus's first three."""
    conversation = analysed_conversation(user, counts={"verb_tense": count})
    scripted_llm.set_default(text="not json at all")
    services.run_for_conversation(conversation.pk)
    drain_queue()
    module = Module.objects.get(conversation=conversation)
    assert module.source == "built" and module.status == "validated"
    return module


def sequence(problems):
    return [(p["kind"], p["prompt"], p["answer"]) for p in problems]


def sentences_in(problems, count=9):
    """Which of the cluster's sentences (by index) the items practise."""
    used = set()
    for index in range(count):
        wrong, right = sentence("verb_tense", index)
        forms = {wrong, right.replace(" went ", " ___ ")}
        used |= {index for p in problems if p["prompt"] in forms}
    return used


def verified(module, problem) -> bool:
    """The builder's independent audit passes the item against one of the cluster's
    corrected sentences (or the note's example) as the lesson's correction."""
    rights = [sentence("verb_tense", i)[1] for i in range(9)]
    rights += [e["right"] for e in module.content["examples"]]
    return any(
        not builder.audit(
            ModuleContent.model_validate(
                {**module.content, "correction": right, "problems": [problem] * 3}
            ),
            "verb_tense",
        )
        for right in rights
    )


def right_answers(problems):
    return [p["answer"] for p in problems]


def test_a_review_is_built_from_the_clusters_other_sentences(alice, scripted_llm):
    module = built_lesson(alice, scripted_llm, count=9)
    item = learning.collection_save(learner=alice, module_id=module.pk)

    first = reviews.review_problems(item)

    lesson = module.content["problems"]
    assert sequence(first) != sequence(lesson)
    # New sentences of the same cluster: none the lesson practised or showed.
    assert sentences_in(lesson) == {0, 1, 2}  # the focus's three
    assert sentences_in(first) and not sentences_in(first) & {0, 1, 2}
    # Verified like the lesson: the independent audit finds no wrong key, no second answer.
    assert all(verified(module, problem) for problem in first)
    # A reload is the same review; once answered, the next one is new again.
    item.refresh_from_db()
    assert sequence(reviews.review_problems(item)) == sequence(first)
    learning.practice_submit(
        learner=alice, module=module, answers=right_answers(first), review=True
    )
    item.refresh_from_db()
    second = reviews.review_problems(item)
    assert sequence(second) != sequence(first)
    assert not sentences_in(second) & sentences_in(first)


def test_with_no_other_sentence_the_stored_items_come_in_another_order(alice, scripted_llm):
    module = built_lesson(alice, scripted_llm, count=3)  # the lesson uses all three
    item = learning.collection_save(learner=alice, module_id=module.pk)
    lesson = module.content["problems"]
    seen = [sequence(lesson)]
    for _ in range(4):
        problems = reviews.review_problems(item)
        assert sequence(problems) != seen[-1]
        assert sorted(sequence(problems)) == sorted(sequence(lesson))
        learning.practice_submit(learner=alice, module=module, answers=[], review=True)
        item.refresh_from_db()
        seen.append(sequence(problems))


def test_a_model_written_lesson_is_reviewed_in_another_order(alice):
    module = module_row(alice)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    problems = reviews.review_problems(item)
    assert sequence(problems) != sequence(module.content["problems"])
    assert sorted(sequence(problems)) == sorted(sequence(module.content["problems"]))


def test_the_review_is_graded_on_its_own_items_and_its_score_sets_the_rating(alice, scripted_llm):
    module = built_lesson(alice, scripted_llm, count=9)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    problems = reviews.review_problems(item)
    answers = right_answers(problems)

    checked = learning.practice_check(
        module=module, index=0, answer=answers[0], problems=reviews.in_progress(item)
    )
    assert checked["correct"] and checked["expected"] == problems[0]["answer"]
    all_wrong = learning.practice_submit(
        learner=alice, module=module, answers=["zzz"] * len(problems), review=True
    )
    assert (all_wrong.correct, all_wrong.total, all_wrong.rating) == (0, len(problems), "again")
    item.refresh_from_db()
    assert item.review["answered"] and item.reviews == 1
    after_again = item.due_at

    problems = reviews.review_problems(item)
    right = learning.practice_submit(
        learner=alice, module=module, answers=right_answers(problems), review=True
    )
    assert (right.correct, right.total, right.rating) == (len(problems), len(problems), "good")
    assert [a["expected"] for a in right.answers] == [p["answer"] for p in problems]
    item.refresh_from_db()
    assert item.reviews == 2 and item.due_at > after_again > timezone.now()


def test_review_answers_through_the_api_use_the_reviews_items(alice, api, scripted_llm):
    module = built_lesson(alice, scripted_llm, count=9)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    problems = reviews.review_problems(item)
    index = next(i for i, p in enumerate(problems) if p["kind"] != "rewrite")
    url = f"/api/v1/modules/{module.pk}/practice/"

    check = api.post(f"{url}check/", {"index": index, "answer": "x", "review": True}, format="json")
    assert check.status_code == 200 and check.json()["expected"] == problems[index]["answer"]
    done = api.post(url, {"answers": right_answers(problems), "review": True}, format="json")
    assert done.status_code == 201 and done.json()["rating"] == "good"
    assert done.json()["total"] == len(problems)
    assert CollectionItem.objects.get(pk=item.pk).review["answered"]


def test_the_review_page_shows_its_own_items_and_holds_the_explanation_back(
    alice, client, scripted_llm
):
    module = built_lesson(alice, scripted_llm, count=9)
    learning.collection_save(learner=alice, module_id=module.pk)
    client.force_login(alice)

    page = client.get(f"/lessons/{module.pk}/?review=1").content.decode()

    item = alice.collection.get()
    for problem in item.review["problems"]:
        assert f'data-answer="{problem["answer"]}"' in page
    assert "The explanation opens when you finish" in page
    assert '<section class="explanation" id="explanation" aria-labelledby="why" hidden' in page
    # The answer is not given away before the learner answers: the title ("went, not go")
    # and the lesson's own sentence come with the explanation, after the practice.
    practice = page.index('id="finish"')
    assert page.index(module.content["title"]) > practice
    assert page.index(module.content["correction"]) > practice
    # Practising (not reviewing) shows the lesson as it is, explanation first.
    lesson = client.get(f"/lessons/{module.pk}/").content.decode()
    assert "explanation-later" not in lesson
    assert lesson.index('id="explanation"') < lesson.index('id="finish"')
    assert " hidden" not in lesson[lesson.index('id="explanation"') :][:80]
