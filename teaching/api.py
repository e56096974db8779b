"""REST for lessons, the collection, practice, reviews and runs. Every read goes through
teaching.selectors, so another learner's lesson or item is a 404 like a missing one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.models import Conversation
from core.api import ErrorSerializer, StrictSerializer
from core.errors import NotFound
from teaching import selectors
from teaching.models import Scope
from teaching.serializers import (
    CollectionItemSerializer,
    CollectionSaveInput,
    CollectionUpdateInput,
    LessonsSerializer,
    ModuleSerializer,
    PracticeCheckInput,
    PracticeCheckSerializer,
    PracticeInput,
    PracticeResultSerializer,
    RunSerializer,
)
from teaching.services import learning, privacy, run_for_learner
from teaching.services import review as reviews

TAGS = ["teaching"]
FILTERS = [
    OpenApiParameter("language", str, description="ISO 639-1 code, e.g. en"),
    OpenApiParameter("error_type", str, description="error family, e.g. verb_tense"),
    OpenApiParameter("cluster", str, description="cluster name"),
    OpenApiParameter("tag", str, description="one of your tags"),
]


def _filters(request: Request) -> dict[str, str]:
    return {
        k: request.query_params.get(k, "")[:200]
        for k in ("language", "error_type", "cluster", "tag")
    }


@extend_schema(tags=TAGS)
class ModuleListView(generics.ListAPIView):
    """Your lessons that are ready (validated, or approved by a teacher)."""

    serializer_class = ModuleSerializer

    def get_queryset(self):
        return selectors.modules_visible_to(self.request.user)


@extend_schema(tags=TAGS)
class ModuleDetailView(generics.RetrieveAPIView):
    serializer_class = ModuleSerializer

    def get_object(self):
        return selectors.module_get_for(self.request.user, self.kwargs["pk"])


@extend_schema(tags=TAGS, request=PracticeInput, responses={201: PracticeResultSerializer})
class PracticeView(APIView):
    """Submit your answers to a lesson's problems: graded, stored, and when the lesson is
    saved, its next review is scheduled from the result."""

    def post(self, request: Request, pk: int) -> Response:
        module = selectors.module_get_for(request.user, pk)
        data = PracticeInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = learning.practice_submit(
            learner=request.user, module=module, **data.validated_data
        )
        return Response(PracticeResultSerializer(attempt).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS, request=PracticeCheckInput, responses=PracticeCheckSerializer)
class PracticeCheckView(APIView):
    """Check one answer as you go (nothing is stored); a rewritten sentence is graded
    with ERRANT, and the feedback says what is still wrong."""

    def post(self, request: Request, pk: int) -> Response:
        module = selectors.module_get_for(request.user, pk)
        data = PracticeCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = data.validated_data.pop("review")
        saved = request.user.collection.filter(module=module).first() if review else None
        result = learning.practice_check(
            module=module, problems=reviews.in_progress(saved), **data.validated_data
        )
        return Response(PracticeCheckSerializer(result).data)


@extend_schema(tags=TAGS, responses=LessonsSerializer)
class ConversationLessonsView(APIView):
    """A conversation's teaching run (its state and progress) and its ready lessons."""

    def get(self, request: Request, pk: int) -> Response:
        if not Conversation.objects.filter(pk=pk, owner_id=request.user.pk).exists():
            raise NotFound("No such conversation.")
        run = selectors.run_for_conversation(request.user, pk)
        modules = selectors.modules_visible_to(request.user).filter(conversation_id=pk)
        overview = selectors.lessons_overview(request.user, conversation_id=pk)
        return Response(LessonsSerializer({"run": run, "modules": modules, **overview}).data)


class RunStartSerializer(StrictSerializer):
    """What starting a run takes: nothing needed, and no unknown fields."""

    scope = serializers.ChoiceField(
        choices=[Scope.LEARNER],
        default=Scope.LEARNER,
        help_text="Only `learner` (all your conversations): a conversation's run starts itself.",
    )


@extend_schema(tags=TAGS)
class RunListView(generics.ListCreateAPIView):
    """Your teaching runs; POST starts one across all your conversations."""

    serializer_class = RunSerializer

    def get_queryset(self):
        return selectors.runs_of(self.request.user)

    @extend_schema(
        request=RunStartSerializer,
        responses={202: RunSerializer, 200: RunSerializer},
        description=(
            "202 with a new queued run; 200 with the run already queued or running across "
            "your conversations, when there is one (a second one would do the same work)."
        ),
    )
    def post(self, request: Request) -> Response:
        incoming = RunStartSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        run, created = run_for_learner(learner=request.user)
        answer = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(RunSerializer(run).data, status=answer)


@extend_schema(tags=TAGS)
class RunDetailView(generics.RetrieveAPIView):
    serializer_class = RunSerializer

    def get_object(self):
        return selectors.run_get_for(self.request.user, self.kwargs["pk"])


@extend_schema(tags=TAGS, parameters=FILTERS)
class CollectionView(generics.ListAPIView):
    """Your saved lessons (GET, filterable), or save one (POST)."""

    serializer_class = CollectionItemSerializer

    def get_queryset(self):
        return selectors.collection_of(self.request.user, **_filters(self.request))

    @extend_schema(
        request=CollectionSaveInput,
        responses={
            201: CollectionItemSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such lesson for this account"),
        },
    )
    def post(self, request: Request) -> Response:
        data = CollectionSaveInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = learning.collection_save(
            learner=request.user,
            module_id=data.validated_data["module"],
            notes=data.validated_data.get("notes", ""),
            tags=data.validated_data.get("tags", []),
        )
        return Response(CollectionItemSerializer(item).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class CollectionItemView(APIView):
    serializer_class = CollectionItemSerializer

    @extend_schema(responses=CollectionItemSerializer)
    def get(self, request: Request, pk: int) -> Response:
        item = selectors.item_get_for(request.user, pk)
        return Response(CollectionItemSerializer(item).data)

    @extend_schema(request=CollectionUpdateInput, responses=CollectionItemSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        item = selectors.item_get_for(request.user, pk)
        data = CollectionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        learning.collection_update(
            item=item, notes=data.validated_data.get("notes"), tags=data.validated_data.get("tags")
        )
        return Response(CollectionItemSerializer(item).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        learning.collection_remove(item=selectors.item_get_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=TAGS)
class DueReviewsView(generics.ListAPIView):
    """Saved lessons due for review now, the most overdue first."""

    serializer_class = CollectionItemSerializer

    def get_queryset(self):
        return selectors.due_items(self.request.user)


class AccountDeleteInput(serializers.Serializer):
    password = serializers.CharField(max_length=200, help_text="Your password, to confirm.")


@extend_schema(tags=["account"], responses={200: OpenApiTypes.OBJECT})
class MeExportView(APIView):
    """All of your data as JSON: profile, conversations, analyses, lessons, collection."""

    def get(self, request: Request) -> Response:
        data = privacy.learner_export(user=request.user)
        filename = f"curiosity-coach-{request.user.username}.json"
        return Response(data, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@extend_schema(tags=["account"], request=AccountDeleteInput, responses={204: None})
class MeDeleteView(APIView):
    """Delete your account and everything of yours. Confirm with your password."""

    def post(self, request: Request) -> Response:
        data = AccountDeleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.check_password(data.validated_data["password"]):
            raise learning.InvalidInput("That is not your password; nothing was deleted.")
        privacy.learner_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
