"""The retrieval floor: the shipped evaluation (3 documents, one a real PDF, 44 questions)
must stay answerable by hybrid search with the embedded default embedder."""

import pytest

from documents.testing import evaluation

pytestmark = pytest.mark.django_db

FLOOR = 0.9


@pytest.fixture
def corpus(alice):
    return evaluation.index_corpus(alice)


def test_the_evaluation_has_three_documents_one_a_pdf_and_forty_questions(corpus):
    assert len(corpus) >= 3
    assert corpus["textbook"].content_type == "pdf" and corpus["textbook"].pages == 5
    assert len(evaluation.questions()) >= 40


def test_hybrid_recall_at_5_reaches_the_floor_with_the_embedded_default(corpus):
    ranker = evaluation.stored_ranker(list(corpus.values()))
    scores = evaluation.evaluate(corpus, ranker)
    assert scores["hybrid"].recall >= FLOOR, scores
    assert scores["hybrid"].mrr >= 0.75, scores


def test_the_product_search_answers_the_questions_and_finds_nothing_for_the_rest(alice, corpus):
    recall, empty = evaluation.product_scores(alice, corpus)
    assert recall >= FLOOR
    assert empty >= 0.9
