"""Wait, in one process, until the database answers, or until it has every migration.

    python3 ops/container/wait.py database     # before `migrate`: PostgreSQL may be starting
    python3 ops/container/wait.py migrations   # before `web` and `worker` (WAIT_FOR_MIGRATIONS)

Gives up after MIGRATIONS_WAIT_SECONDS (300) with exit status 1 and the last reason. One
Django start, then a check a second: starting Django for every try (`migrate --check` in
a loop) costs seconds each on a busy machine.
"""

import os
import sys
import time
from pathlib import Path


def pending_migrations(connection) -> int:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def wait(what: str, limit: float, interval: float = 1.0) -> tuple[bool, str]:
    from django.db import connection

    deadline = time.monotonic() + limit
    announced = False
    while True:
        try:
            connection.ensure_connection()
            if what == "database":
                return True, "the database answers"
            pending = pending_migrations(connection)
            if not pending:
                return True, "the database has every migration"
            reason = f"{pending} migration(s) not applied yet"
        except Exception as exc:
            reason = f"the database does not answer: {exc.__class__.__name__}: {exc}"
        finally:
            connection.close()
        if time.monotonic() >= deadline:
            return False, reason
        if not announced:
            print(f"wait: {reason}; waiting up to {limit:.0f}s", file=sys.stderr, flush=True)
            announced = True
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["database"], ["migrations"]):
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()
    ok, reason = wait(args[0], float(os.environ.get("MIGRATIONS_WAIT_SECONDS", "300")))
    print(f"wait: {reason}", file=sys.stderr, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
