"""REST under /api/v1/documents/: upload, list, read, delete, cancel and retry ingestion.

Uploads answer at once (201, or 200 for content already uploaded); ingestion runs in
the background and its progress is pushed on /ws/events/.
"""

from collections.abc import Callable
from typing import ClassVar

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import PageNumberPagination
from core.errors import UserFacingError
from core.schema import error_responses
from documents import selectors, services
from documents.serializers import DocumentSerializer, UploadInput

TAGS = ["documents"]


errors = error_responses(
    {
        400: "Invalid input, or a file that cannot be read (damaged, locked, empty)",
        404: "No such document for this account (another learner's looks the same)",
        409: "Not possible in the document's current state",
        413: "File larger than the limit",
        415: "Not a .txt, .md, .pdf or .html file, judged by its content",
    }
)


def document_response(request: Request, document_id: int, code: int) -> Response:
    document = selectors.document_get_for(request.user, document_id)
    return Response(DocumentSerializer(document).data, status=code)


class DocumentListView(generics.ListAPIView):
    pagination_class = PageNumberPagination
    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.document_list_for(self.request.user)

    @extend_schema(operation_id="documents_list", tags=TAGS, summary="Your documents, newest first")
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(
        operation_id="documents_create",
        tags=TAGS,
        summary="Upload a document; it is indexed in the background",
        request={"multipart/form-data": UploadInput},
        responses={
            201: DocumentSerializer,
            200: OpenApiResponse(DocumentSerializer, description="Already uploaded: the same"),
            **errors(400, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise UserFacingError("Choose a file to upload.", detail={"file": "Required."})
        services.check_size(upload.size)  # refused before reading it
        document, created = services.document_upload(
            owner=request.user, filename=upload.name or "", data=upload.read()
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return document_response(request, document.pk, code)


class DocumentDetailView(APIView):
    @extend_schema(
        operation_id="documents_retrieve",
        tags=TAGS,
        summary="A document with its ingestion state",
        responses={200: DocumentSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return document_response(request, pk, status.HTTP_200_OK)

    @extend_schema(
        operation_id="documents_destroy",
        tags=TAGS,
        summary="Delete a document, its passages and vectors",
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.document_delete(document=selectors.document_get_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def ingestion_action(operation_id: str, summary: str):
    """The schema of an IngestionActionView: the views differ only in these words."""
    return extend_schema(
        operation_id=operation_id,
        tags=TAGS,
        summary=summary,
        request=None,
        responses={200: DocumentSerializer, **errors(404, 409)},
    )


# POST hands the learner's document to one ingestion service (`act`) and answers with the
# document as it then stands. A comment, not a docstring: drf-spectacular would publish a
# docstring as each operation's description.
class IngestionActionView(APIView):
    act: ClassVar[Callable[..., object]]

    def post(self, request: Request, pk: int) -> Response:
        type(self).act(document=selectors.document_get_for(request.user, pk))
        return document_response(request, pk, status.HTTP_200_OK)


@extend_schema_view(post=ingestion_action("documents_cancel", "Stop indexing a document"))
class CancelView(IngestionActionView):
    act = services.ingestion_cancel


@extend_schema_view(
    post=ingestion_action("documents_retry", "Index a failed or cancelled document again")
)
class RetryView(IngestionActionView):
    act = services.ingestion_retry
