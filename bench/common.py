"""What every benchmark does the same way: a Django set up on a scratch database, and
percentiles by the nearest rank."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def setup_django(name: str, *, log_level: str = "WARNING", **environ: str) -> None:
    """Django on a fresh SQLite file under a temporary VAR_DIR (unless DATABASE_URL names
    a database), migrated. `environ` is set before Django reads its settings."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix=f"{name}-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", log_level)
    os.environ.update(environ)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@contextmanager
def scratch_databases(name: str) -> Iterator[None]:
    """Django set up on test databases made for the run and dropped after it (a scratch
    SQLite file, or test_<name> beside DATABASE_URL's database)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    scratch = tempfile.mkdtemp(prefix=f"bench-{name}-")
    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{scratch}/bench.sqlite3"
    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)


def learner(
    username: str = "bench",
    *,
    password: str = "a-long-bench-passphrase",
    email: str = "bench@example.com",
):
    """A Spanish speaker learning English at B1: the learner every benchmark measures with."""
    # Django is set up by the caller's setup_django or scratch_databases, after import.
    from accounts.services import learner_sign_up

    return learner_sign_up(
        username=username,
        password=password,
        email=email,
        native_language="es",
        target_language="en",
        level="B1",
    )
