"""Server-rendered pages; static/js/documents.js uploads through the REST API and keeps
the progress bars live over /ws/events/."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.shortcuts import or_404, url_template
from documents import selectors
from documents.serializers import DocumentSerializer


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    documents = list(selectors.document_list_for(request.user)[:200])
    context = {
        "documents": documents,
        "documents_data": DocumentSerializer(documents, many=True).data,
        "max_bytes": settings.DOCUMENT_MAX_BYTES,
        "max_megabytes": f"{settings.DOCUMENT_MAX_BYTES / (1024 * 1024):g}",
        "api_url": reverse("api:document-list"),
        "detail_url_template": url_template("documents:detail"),
    }
    return render(request, "documents/list.html", context)


@login_required
@require_GET
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document = or_404(selectors.document_get_for, request.user, document_id)
    context = {
        "document": document,
        "document_data": DocumentSerializer(document).data,
        "chunks": selectors.chunks_of(document),
        "api_url": reverse("api:document", args=[document.pk]),
    }
    return render(request, "documents/detail.html", context)
