"""What pages share on top of the services: a service's NotFound read as a 404 page, and
URLs for their scripts."""

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404
from django.urls import reverse

from core.errors import NotFound

T = TypeVar("T")


def or_404(read: Callable[..., T], *args) -> T:
    """`read(*args)`, with NotFound (another learner's row reads the same) as Http404."""
    try:
        return read(*args)
    except NotFound as error:
        raise Http404(error.user_message) from error


def url_template(name: str) -> str:
    """The URL of the page `name` with `__id__` where its id goes: scripts fill in the id
    of a row they just created."""
    return reverse(name, args=[0]).replace("/0/", "/__id__/")
