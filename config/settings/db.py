"""The database: SQLite in WAL mode by default, PostgreSQL (with a pool) by DATABASE_URL;
and the threads that share its connections."""

from config.settings.base import VAR_DIR, env

# Threads that serve sync code under ASGI (asgiref reads the same variable). The pool is
# sized from it so concurrent requests and websockets wait for a connection, never fail.
ASGI_THREADS = env.int("ASGI_THREADS", default=40)
WORKER_THREADS = env.int("WORKER_THREADS", default=24)
# Threads of numpy's BLAS in each process (ops.apps.limit_blas_threads says why one).
BLAS_THREADS = env.int("BLAS_THREADS", default=1)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=max(ASGI_THREADS, WORKER_THREADS) + 4)


def sqlite_database(name) -> dict:
    """SQLite as the product runs it, the embedded default or a DATABASE_URL of
    sqlite:///...: a second process on the same file (a worker) must take turns the same
    way, or its writes fail with "database is locked"."""
    return {
        # Django's SQLite backend, with the writers of one process taking turns on a
        # lock instead of sleeping in SQLite's busy handler (see ops/sqlite/base.py).
        "ENGINE": "ops.sqlite",
        "NAME": name,
        "OPTIONS": {
            # WAL lets readers proceed while one writer commits; IMMEDIATE takes the
            # write lock up front so transactions wait (busy timeout) instead of
            # failing with "database is locked" when they upgrade from read to write.
            # secure_delete: deleted rows (a deleted learner's messages) are zeroed in
            # the file, not left readable in its free pages (accounts.signals also
            # checkpoints the write-ahead log after an account is deleted).
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=20.0),
        },
    }


if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"] = sqlite_database(DATABASES["default"]["NAME"])
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env.float("DB_POOL_TIMEOUT", default=20.0),
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            **sqlite_database(VAR_DIR / "db.sqlite3"),
            "TEST": {"NAME": VAR_DIR / "test-db.sqlite3"},
        }
    }
