"""Django's SQLite backend, with one process's writers queued on a lock.

SQLite lets one connection write at a time. A connection that finds the write lock taken
retries from SQLite's busy handler, which sleeps 1, 2, 5, 10, ... up to 100 ms between
tries. Under a steady stream of short writes (every streaming reply stores its text
every 30 ms) a waiter can miss its turn several times and sleep for hundreds of
milliseconds behind a lock that is held for one. Here the writers of one process first
take a lock of the process and are woken the moment it is free; only writers in other
processes still meet the busy handler. Readers never wait: WAL serves them meanwhile.

A write is a transaction begun IMMEDIATE or EXCLUSIVE (which takes SQLite's write lock
up front), or a data-changing statement run in autocommit mode. The lock is waited for
no longer than the busy timeout; after that SQLite's own handler decides, as before.
"""

import sqlite3
import threading
from contextlib import contextmanager

from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
WRITE_TRANSACTIONS = ("IMMEDIATE", "EXCLUSIVE")


def _write_lock(database: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(database, threading.Lock())


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that takes its process's write lock around its writes."""

    write_lock: threading.Lock
    lock_timeout: float
    holds_write_lock = False

    def take_write_turn(self) -> None:
        if not self.holds_write_lock:
            # Past the timeout, go on anyway: SQLite's busy handler then decides, so a
            # stuck lock never turns into a hang.
            self.holds_write_lock = self.write_lock.acquire(timeout=self.lock_timeout)

    def end_write_turn(self, *, closed: bool = False) -> None:
        # A closed connection's transaction is over, whatever it would still say.
        if self.holds_write_lock and (closed or not self.in_transaction):
            self.holds_write_lock = False
            self.write_lock.release()


class CursorWrapper(base.SQLiteCursorWrapper):
    def execute(self, query, params=None):
        with _autocommit_write_turn(self.connection, query):
            return super().execute(query, params)

    def executemany(self, query, param_list):
        with _autocommit_write_turn(self.connection, query):
            return super().executemany(query, param_list)


@contextmanager
def _autocommit_write_turn(connection: QueuedWriterConnection, query: str):
    """Holds the write lock around a data-changing statement run outside a transaction
    (inside one, the transaction already holds it)."""
    if connection.in_transaction or not query.lstrip()[:7].upper().startswith(WRITE_STATEMENTS):
        yield
        return
    connection.take_write_turn()
    try:
        yield
    finally:
        connection.end_write_turn()


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        conn = super().get_new_connection({**conn_params, "factory": QueuedWriterConnection})
        conn.write_lock = _write_lock(str(conn_params["database"]))
        conn.lock_timeout = float(conn_params.get("timeout", 5.0))
        return conn

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=CursorWrapper)

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode not in WRITE_TRANSACTIONS:
            return super()._start_transaction_under_autocommit()
        self.connection.take_write_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self.connection.end_write_turn()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._end_write_turn()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._end_write_turn()

    def _close(self):
        try:
            super()._close()
        finally:
            if self.connection is not None:
                self.connection.end_write_turn(closed=True)

    def _end_write_turn(self):
        if self.connection is not None:
            self.connection.end_write_turn()
