from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ops import health as checks


@never_cache
@require_GET
async def health(request: HttpRequest) -> JsonResponse:
    """200 when every component is ok, 503 otherwise; the body says which one is not."""
    components = await checks.run_all()
    healthy = all(c["status"] == "ok" for c in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "components": components},
        status=200 if healthy else 503,
    )
