"""Server-rendered pages: the conversation list (home) and the chat page.

The pages render what the learner has now; static/js/chat.js then keeps the chat live over
the websocket and performs every action through the REST API, so the rules live in one
place (the services behind the API).
"""

import html

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET, require_POST

import llm
from conversations import selectors, services
from conversations.models import TaskType
from conversations.rendering import render_markdown
from conversations.serializers import message_data
from core.shortcuts import or_404, url_template
from documents import selectors as documents_selectors

CONVERSATIONS_PER_PAGE = 20


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.conversation_list_for(request.user), CONVERSATIONS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    for conversation in page.object_list:
        conversation.preview_text = _plain_preview(conversation.last_message_preview)
    context = {
        "page_obj": page,
        "documents": documents_selectors.documents_ready_for(request.user)[:100],
        "task_types": TaskType.choices,
        "max_chars": settings.MESSAGE_MAX_CHARS,
        "api_url": reverse("api:conversation-list"),
        "chat_url_template": url_template("chat"),
    }
    return render(request, "conversations/list.html", context)


@login_required
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = or_404(selectors.conversation_get_for, request.user, conversation_id)
    rows, has_earlier = selectors.visible_messages(conversation)
    messages = [message_data(m) for m in rows]
    labels = dict(TaskType.choices)
    context = {
        "conversation": conversation,
        "documents": conversation.documents.only("pk", "title").order_by("pk"),
        # chat.js offers the messages before this seq on demand.
        "earlier_before_seq": rows[0].seq if has_earlier else None,
        "chat_messages": [{**m, "task_label": labels.get(m["task_type"], "")} for m in messages],
        "chat_data": {
            "conversation": {
                "id": conversation.id,
                "title": conversation.title,
                "task_type": conversation.task_type,
                "ended_at": conversation.ended_at.isoformat() if conversation.ended_at else None,
            },
            # The sanitised HTML is in the page once, in the server-rendered list;
            # chat.js reads it from there.
            "messages": [{k: v for k, v in m.items() if k != "html"} for m in messages],
            "task_labels": labels,
        },
        "task_types": TaskType.choices,
        "model": llm.model_info(conversation.task_type),
        "max_chars": settings.MESSAGE_MAX_CHARS,
        "api_url": reverse("api:conversation", args=[conversation.id]),
        "ws_url": f"/ws/conversations/{conversation.id}/",
    }
    return render(request, "conversations/chat.html", context)


@login_required
@require_POST
def conversation_delete(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = or_404(selectors.conversation_get_for, request.user, conversation_id)
    title = conversation.title or "Untitled conversation"
    services.conversation_delete(conversation=conversation)
    messages.success(request, f"Deleted “{title}” and all its messages.")
    return redirect("home")


def _plain_preview(markdown: str | None) -> str:
    # Previews show the words, not Markdown syntax (`*the*`, `# Heading`, list markers).
    text = html.unescape(strip_tags(render_markdown(markdown or "")))
    return " ".join(text.split())
