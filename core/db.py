from django.db import connection


def release_connection() -> None:
    """Hands this thread's connection back between units of work in a long-lived thread.

    On PostgreSQL closing returns it to the pool, which is cheap. Reopening SQLite costs
    a file open and the WAL pragmas each time, so there the connection is kept unless it
    broke.
    """
    if connection.vendor == "sqlite":
        if connection.connection is not None and not connection.is_usable():
            connection.close()
        return
    connection.close()
