"""Grounding a `rag` reply in the learner's documents: retrieve for the learner's message,
fence the passages as data in the system prompt, and describe them as citations.

A read (no writes): the citations travel with the prompt and are stored with the reply
by the generation service.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.urls import reverse

from conversations.answers import plain
from documents import selectors as documents_selectors
from documents.search import Hit
from llm.prompts import render

PROMPTS = Path(__file__).resolve().parent / "prompts"
SNIPPET_CHARS = 300
# A passage may contain text that looks like our fences; it must not close one early.
_FENCE_LOOKALIKES = {"<<<": "\u2039\u2039\u2039", ">>>": "\u203a\u203a\u203a"}


@dataclass
class Grounding:
    instructions: str
    citations: list[dict] = field(default_factory=list)
    # Each cited passage's whole text, by its number: what an answer may say.
    passages: dict[int, str] = field(default_factory=dict)


def ground(conversation, query: str) -> Grounding:
    """Passages of the conversation's documents for `query`, fenced, with their citations."""
    document_ids = list(conversation.documents.values_list("pk", flat=True))
    hits = documents_selectors.chunks_search_for(
        conversation.owner, document_ids=document_ids, query=query
    )
    if not hits:
        return Grounding(instructions=_template("rag_nothing.txt"))
    sources = "\n\n".join(fence(number, hit) for number, hit in enumerate(hits, start=1))
    return Grounding(
        instructions=render(_template("rag.txt"), {"sources": sources}),
        citations=[citation(number, hit) for number, hit in enumerate(hits, start=1)],
        passages={number: hit.chunk.text for number, hit in enumerate(hits, start=1)},
    )


def fence(number: int, hit: Hit) -> str:
    chunk = hit.chunk
    where = [f'document: "{defanged(chunk.document.title)}"']
    if chunk.page:
        where.append(f"page {chunk.page}")
    if chunk.section:
        where.append(f'section: "{defanged(chunk.section)}"')
    header = f"<<<SOURCE {number} | " + " | ".join(where) + ">>>"
    return f"{header}\n{defanged(chunk.text)}\n<<<END SOURCE {number}>>>"


def defanged(text: str) -> str:
    for lookalike, replacement in _FENCE_LOOKALIKES.items():
        text = text.replace(lookalike, replacement)
    return text


def citation(number: int, hit: Hit) -> dict:
    chunk = hit.chunk
    # Shown as text: the passage's Markdown (## headings, **bold**) is not rendered there.
    snippet = plain(chunk.text)
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
    return {
        "n": number,
        "document_id": chunk.document_id,
        "chunk_id": chunk.pk,
        "ordinal": chunk.ordinal,
        "title": chunk.document.title,
        "page": chunk.page,
        "section": chunk.section,
        "snippet": snippet,
    }


def citations_view(citations: list[dict], live_document_ids: set[int]) -> list[dict]:
    """Stored citations as clients see them: a link to the passage, or `deleted`. A
    grammar note (`kind` "note") has no document and no link."""
    shown = []
    for item in citations:
        if item.get("kind") == "note":
            shown.append({**item, "deleted": False, "url": ""})
            continue
        deleted = item.get("document_id") not in live_document_ids
        url = (
            ""
            if deleted
            else (
                reverse("documents:detail", args=[item["document_id"]])
                + f"#chunk-{item.get('ordinal', 0)}"
            )
        )
        shown.append({**item, "deleted": deleted, "url": url})
    return shown


def _template(name: str) -> str:
    return (PROMPTS / name).read_text().strip()
