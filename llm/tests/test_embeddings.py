"""llm.embed: the embedded default and an OpenAI-compatible endpoint, both accounted."""

import numpy as np
import pytest

import llm
from llm import errors
from llm.models import LLMCall

SENTENCES = [
    "I went to the market yesterday.",
    "Yesterday I walked to the shop.",
    "The derivative of x squared is two x.",
]


@pytest.mark.django_db
def test_local_embeddings_are_unit_rows_that_put_similar_texts_close(alice):
    vectors = llm.embed(SENTENCES, user=alice, purpose="test")

    assert vectors.dtype == np.float32
    assert vectors.shape == (3, llm.embedding_dim()) == (3, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated
    call = LLMCall.objects.get()
    assert (call.kind, call.task, call.provider, call.user) == ("embed", "test", "local", alice)
    assert call.prompt_tokens > 0 and call.cost_usd == 0


@pytest.mark.django_db
def test_same_text_gets_the_same_vector_in_any_batch():
    alone = llm.embed([SENTENCES[2]])
    together = llm.embed(SENTENCES)

    assert np.allclose(alone[0], together[2], atol=1e-6)


@pytest.mark.django_db
def test_local_tokens_are_counted_without_the_padding_of_a_batch():
    llm.embed(["Hi.", "The derivative of x squared is two x, as the chapter shows."])
    llm.embed(["Hi."])
    llm.embed(["The derivative of x squared is two x, as the chapter shows."])

    together, short, long = LLMCall.objects.order_by("id").values_list("prompt_tokens", flat=True)
    assert together == short + long  # the short text padded to the long one adds nothing
    assert 0 < short < long


@pytest.mark.django_db
def test_no_texts_make_no_call():
    assert llm.embed([]).shape == (0, 256)
    assert not LLMCall.objects.exists()


@pytest.fixture
def openai_embeddings(settings, openai_llm):
    settings.EMBEDDINGS_PROVIDER = "openai"
    settings.EMBEDDINGS_BASE_URL = openai_llm.base_url
    settings.EMBEDDINGS_API_KEY = ""
    settings.EMBEDDINGS_MODEL = "stub-embedder"
    settings.EMBEDDINGS_BATCH_SIZE = 2
    return openai_llm


@pytest.mark.django_db
def test_openai_endpoint_embeds_in_batches_keeping_order(openai_embeddings, alice):
    vectors = llm.embed(SENTENCES, user=alice)

    assert vectors.shape == (3, 8)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert [body["input"] for body in openai_embeddings.requests] == [SENTENCES[:2], SENTENCES[2:]]
    assert np.allclose(llm.embed([SENTENCES[2]])[0], vectors[2])
    call = LLMCall.objects.filter(user=alice).get()
    assert (call.kind, call.provider, call.model) == ("embed", "openai", "stub-embedder")
    assert call.prompt_tokens == sum(len(s.split()) for s in SENTENCES)  # the endpoint's usage
    assert call.tokens_estimated is False


@pytest.mark.django_db
def test_an_endpoint_without_usage_is_recorded_as_estimated_tokens(openai_embeddings, alice):
    openai_embeddings.send_usage = False

    llm.embed(SENTENCES, user=alice)

    call = LLMCall.objects.filter(user=alice).get()
    assert call.prompt_tokens > 0 and call.tokens_estimated is True


@pytest.mark.django_db
def test_unreachable_endpoint_is_a_typed_error_and_an_error_row(settings, alice):
    settings.EMBEDDINGS_PROVIDER = "openai"
    settings.EMBEDDINGS_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens

    with pytest.raises(errors.ModelUnavailable):
        llm.embed(["hello"], user=alice)

    assert LLMCall.objects.get().status == "error"
