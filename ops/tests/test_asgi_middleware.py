"""Under ASGI a request enters a thread once for the whole middleware chain."""

import pytest
from asgiref.sync import SyncToAsync
from django.test import AsyncClient


@pytest.fixture
def thread_hops(monkeypatch) -> list[str]:
    """Names of the sync callables run in a thread from async code, in order."""
    hops: list[str] = []
    original = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    return hops


@pytest.mark.django_db(transaction=True)
async def test_a_page_runs_its_middleware_and_view_in_one_adapted_thread(thread_hops):
    response = await AsyncClient().get("/accounts/login/")

    assert response.status_code == 200
    assert "convert_exception_to_response.<locals>.inner" in thread_hops  # the chain, once
    # Run async, each stock middleware would hop to a thread for its request and its
    # response hooks (twelve hops for this stack).
    hooks = (".process_request", ".process_response")
    per_middleware = [name for name in thread_hops if name.endswith(hooks)]
    assert per_middleware == [], thread_hops
