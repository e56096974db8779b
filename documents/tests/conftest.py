"""Helpers of the document tests: uploads through the real service, ingestion on the real
queue (ops.testing's workers), the scripted model and the embedded embedder."""

import pytest

from documents import search, services
from documents.models import Document
from documents.testing.pdf import build_pdf
from ops.testing import drain_queue

GRAMMAR = (
    "# Present perfect\n\n"
    "We use the present perfect for experiences up to now: I have visited Lisbon twice.\n\n"
    "## Signal words\n\n"
    "Words such as already, yet, ever and never often go with the present perfect.\n\n"
    "# Past simple\n\n"
    "The past simple describes a finished action at a stated time: I visited Lisbon in 2019.\n"
)


@pytest.fixture(autouse=True)
def _fresh_vector_cache():
    search.vector_cache.clear()
    yield
    search.vector_cache.clear()


def upload(owner, data: bytes | str = GRAMMAR, filename: str = "grammar.md") -> Document:
    if isinstance(data, str):
        data = data.encode()
    document, _ = services.document_upload(owner=owner, filename=filename, data=data)
    return document


def ingested(owner, data: bytes | str = GRAMMAR, filename: str = "grammar.md") -> Document:
    document = upload(owner, data, filename)
    drain_queue()
    document.refresh_from_db()
    return document


def sample_pdf() -> bytes:
    return build_pdf(
        [
            ["Phrasal verbs", "A phrasal verb joins a verb and a particle: give up, look after."],
            [
                "Separable verbs",
                "With separable verbs the object can sit in the middle: turn it off.",
            ],
        ],
        title="Phrasal verbs",
    )


class Embedding:
    """Controls of the `embedding` fixture's embedder: the embedded default, with hooks."""

    def __init__(self) -> None:
        self.failures = 0  # the next this-many calls fail as an unreachable model would
        self.before: list = []  # callables run before each call (to cancel mid-way, say)
        self.calls = 0


class HookedEmbedder:
    """The product's embedded embedder (wordllama), with the test's hooks around it."""

    name = "hooked"
    controls = Embedding()

    def __init__(self) -> None:
        from llm.embedders.local import WordLlamaEmbedder

        self.inner = WordLlamaEmbedder()

    def model_name(self) -> str:
        return self.inner.model_name()

    def dim(self) -> int:
        return self.inner.dim()

    def embed(self, texts, *, timeout):
        from llm import errors

        controls = HookedEmbedder.controls
        controls.calls += 1
        for hook in controls.before:
            hook()
        if controls.failures > 0:
            controls.failures -= 1
            raise errors.ModelUnavailable(detail="embedding endpoint down (test)")
        return self.inner.embed(texts, timeout=timeout)


@pytest.fixture
def embedding(settings):
    """Swap the embedder at its one seam (llm.embedders) for the hooked one."""
    from llm import embedders

    HookedEmbedder.controls = Embedding()
    with embedders.EMBEDDERS.added("hooked", "documents.tests.conftest.HookedEmbedder"):
        settings.EMBEDDINGS_PROVIDER = "hooked"
        settings.JOB_RETRY_BASE_SECONDS = 0
        yield HookedEmbedder.controls
