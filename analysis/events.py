"""Live analysis events on the learner's own socket (/ws/events/), sent after commit.

At most once, like every event: the chat and "My mistakes" pages read the same data from
the API when they load, so a lost event costs only freshness.
"""

from collections.abc import Callable

from django.db import transaction

from ops.consumers import user_group
from ops.events import publish

RELAY_TYPE = "user.event"  # UserEventsConsumer.user_event relays the payload


def send(learner_id: int, payload: dict) -> None:
    publish(user_group(learner_id), {"type": RELAY_TYPE, "payload": payload})


def send_on_commit(learner_id: int, build: Callable[[], dict]) -> None:
    transaction.on_commit(lambda: send(learner_id, build()))
