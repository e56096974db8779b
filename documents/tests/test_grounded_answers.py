"""What a `rag` answer says: on a guided profile (the built-in model's) the passages' most
relevant sentences, quoted and cited; on a free profile the model's sentences that a
cited passage supports, the others left out and counted. Snippets are plain text."""

import pytest

from conversations import answers, tutoring
from documents.tests.conftest import ingested
from documents.tests.test_grounded_replies import rag_conversation

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "When do I use already and yet with the present perfect?"
STUDY_SHEET = (
    "# Irregular verbs\n\n"
    "## Go\n\n"
    "The **past simple** of *go* is went, and its past participle is gone.\n\n"
    "## Buy and bring\n\n"
    "The past of buy is bought; the past of bring is brought.\n"
)


@pytest.fixture
def guided(settings):
    settings.TUTOR_GUIDED_PROVIDERS = ["local", "scripted"]


def test_a_guided_answer_quotes_the_passages_with_inline_markers(alice, scripted_llm, guided):
    document = ingested(alice)

    _, reply = rag_conversation(alice, [document], QUESTION)

    assert reply.status == "complete"
    assert not [c for c in scripted_llm.calls if c.profile == "chat"]  # no model text
    quote = "Words such as already, yet, ever and never often go with the present perfect."
    cited = {c["n"]: c for c in reply.citations}
    (n,) = [n for n, c in cited.items() if quote in c["snippet"]]
    assert f"> \u201c{quote}\u201d [{n}]" in reply.content
    # Every marker names a stored citation and every citation is quoted.
    assert set(answers.cited(reply.content)) == set(cited)
    assert reply.model == tutoring.DOCUMENTS_SOURCE


def test_every_sentence_of_a_guided_answer_is_found_in_its_passage(alice, scripted_llm, guided):
    document = ingested(alice, STUDY_SHEET, "verbs.md")

    _, reply = rag_conversation(alice, [document], "What is the past simple of go?")

    chunks = {c["n"]: document.chunks.get(pk=c["chunk_id"]).text for c in reply.citations}
    assert "\u201cThe past simple of go is went, and its past participle is gone.\u201d" in (
        reply.content
    )
    assert answers.faithfulness(reply.content, chunks).share == 1.0


def test_snippets_are_plain_text(alice, scripted_llm, guided):
    document = ingested(alice, STUDY_SHEET, "verbs.md")

    _, reply = rag_conversation(alice, [document], "What is the past simple of go?")

    assert reply.citations
    for citation in reply.citations:
        assert "#" not in citation["snippet"] and "*" not in citation["snippet"]


def test_a_free_answer_keeps_only_supported_sentences(alice, scripted_llm):
    document = ingested(alice)
    scripted_llm.queue(
        "Words such as already and yet often go with the present perfect [1][2]. "
        "The present perfect is mostly used for plans in the future [1].",
        chunk_size=7,
    )

    _, reply = rag_conversation(alice, [document], QUESTION)

    assert reply.content.startswith(
        "Words such as already and yet often go with the present perfect [1][2]."
    )
    assert "future" not in reply.content
    assert reply.content.endswith(f"_(1 {tutoring.LABELS['en']['left_out']})_")


def test_a_guided_answer_says_when_the_documents_do_not_cover_it(alice, scripted_llm, guided):
    document = ingested(alice)
    scripted_llm.queue("How was your trip?")

    _, reply = rag_conversation(alice, [document], "What is the capital of Mongolia?")

    assert reply.content == "I could not find this in your documents.\n\nHow was your trip?"
    assert reply.citations == []
