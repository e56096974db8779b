"""Parsing a PDF or a web page in a child process, bounded in time and stoppable.

A small file can make a parser work for minutes: one compressed content stream of a few
KB can hold millions of text operators, shared by every page of a PDF. Parsed in the
worker's own process it could be neither timed out nor cancelled, so these kinds are
parsed in a child process that the kernel ends once it has used its CPU seconds
(RLIMIT_CPU), while the parent waits under a wall-clock bound, asks `stop()` four times a
second and kills the child as soon as the work is no longer wanted.

Plain text and Markdown are parsed in place: their work is linear in the upload's size.
"""

import logging
import multiprocessing
import resource
import signal
import time
from collections.abc import Callable

from documents import parsing

logger = logging.getLogger("documents.isolated")

ISOLATED_KINDS = frozenset({"pdf", "html"})
POLL_SECONDS = 0.25  # a cancel is seen within this, then the kill is immediate
# What the child may import once, in the fork server, rather than on every parse.
_PRELOAD = ["documents.parsing", "pypdf", "lxml.html", "readability"]


class Abandoned(Exception):
    """`stop()` said the parse is no longer wanted; the child has been killed."""


def parse(
    data: bytes,
    kind: str,
    *,
    max_pages: int,
    max_chars: int,
    seconds: int,
    stop: Callable[[], bool],
) -> parsing.Parsed:
    """parsing.parse, with at most `seconds` of CPU time for the PDF or web page kinds;
    raises ParseError past it, Abandoned once `stop()` is true."""
    if kind not in ISOLATED_KINDS:
        return parsing.parse(data, kind, max_pages=max_pages, max_chars=max_chars)
    context = multiprocessing.get_context("forkserver")
    # Forking the worker itself would copy its threads' locks and database connections;
    # the fork server is a clean process started once, with the parsers loaded.
    context.set_forkserver_preload(_PRELOAD)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(sender, data, kind, max_pages, max_chars, seconds),
        name="document-parse",
        daemon=True,
    )
    child.start()
    sender.close()
    logger.info("Parsing a %s in process %s", kind, child.pid)
    try:
        return _outcome(child, receiver, seconds, stop)
    finally:
        receiver.close()
        if child.exitcode is None:
            child.kill()
        child.join(timeout=5)


def _child(sender, data: bytes, kind: str, max_pages: int, max_chars: int, seconds: int):
    # Past the soft limit the kernel sends SIGXCPU (which ends the process), past the
    # hard one SIGKILL, should the parser be stuck where no signal is handled.
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    try:
        outcome = ("parsed", parsing.parse(data, kind, max_pages=max_pages, max_chars=max_chars))
    except parsing.UnsupportedType as exc:
        outcome = ("unsupported", exc.user_message, str(exc.detail))
    except parsing.ParseError as exc:
        outcome = ("refused", exc.user_message, str(exc.detail))
    except Exception as exc:  # the parent raises it as unexpected, so it is retried
        outcome = ("crashed", repr(exc), "")
    sender.send(outcome)
    sender.close()


def _outcome(child, receiver, seconds: int, stop: Callable[[], bool]) -> parsing.Parsed:
    # The CPU limit is the bound; the wall-clock one only catches a child that never
    # gets the CPU to reach it (a machine busy with other work) or waits on something.
    deadline = time.monotonic() + 2 * seconds + 10
    while not receiver.poll(POLL_SECONDS):
        if stop():
            child.kill()
            raise Abandoned
        if time.monotonic() > deadline:
            child.kill()
            raise _too_long(seconds)
    try:
        outcome = receiver.recv()
    except EOFError:  # the child ended without a word: killed by its CPU limit, or worse
        child.join(timeout=5)
        if child.exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise _too_long(seconds) from None
        raise RuntimeError(f"The parsing process ended with code {child.exitcode}") from None
    return _result(outcome)


def _result(outcome: tuple) -> parsing.Parsed:
    status, *rest = outcome
    if status == "parsed":
        return rest[0]
    if status == "unsupported":
        raise parsing.UnsupportedType(rest[0], detail=rest[1])
    if status == "refused":
        raise parsing.ParseError(rest[0], detail=rest[1])
    raise RuntimeError(f"Parsing failed unexpectedly: {rest[0]}")


def _too_long(seconds: int) -> parsing.ParseError:
    return parsing.ParseError(
        f"This file takes too long to read (the limit is {seconds} seconds of work). "
        "It may be built in an unusual way: try saving or exporting it again, or "
        "upload its text instead."
    )
