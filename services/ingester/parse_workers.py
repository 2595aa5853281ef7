"""Where stage 2 runs: in the event loop, or in worker processes sized to the cores.

feedparser is pure-Python CPU work (about 3 ms for a ten-entry feed), so in the event loop it
stalls every fetch in flight and uses one core. :class:`ProcessParser` hands each body to a pool
of worker processes and awaits the result; the loop keeps fetching meanwhile. Both run the same
:func:`parse_feed`, so the outcome (entries or :class:`ParseError`) is identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Protocol

from services.ingester.errors import ParseError
from services.ingester.parse import ParsedFeed, parse_feed

log = logging.getLogger("stancewatch.ingester.parse")


class FeedParser(Protocol):
    async def parse(self, body: bytes, *, url: str, content_type: str | None) -> ParsedFeed: ...


class InlineParser:
    """Parse in the event loop: tests, small one-shot runs, ``STANCEWATCH_PARSE_WORKERS=0``."""

    async def parse(self, body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
        return parse_feed(body, url=url, content_type=content_type)

    async def __aenter__(self) -> InlineParser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: A worker may hold a second body while it parses the first (so it never waits for the loop to
#: send the next one), but only one this small: it then sits in the pipe's buffer and the send
#: cannot block the event loop.
QUEUED_BODY_LIMIT = 32 * 1024
#: Added to the workers' niceness (see :func:`_serve`).
WORKER_NICENESS = 5


class _Worker:
    """One parse process and its end of the pipe; answers come back in the order bodies went in."""

    def __init__(self, ctx: BaseContext) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(child,), name="stancewatch-parse", daemon=True)
        self.process.start()
        child.close()
        self.waiting: deque[asyncio.Future[tuple[bool, object]]] = deque()

    def takes(self, size: int) -> bool:
        return not self.waiting or (len(self.waiting) == 1 and size <= QUEUED_BODY_LIMIT)

    def fail_all(self, exc: BaseException) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(exc)


class ProcessParser:
    """Parse in ``workers`` processes, started on first use; a worker that dies or hangs is replaced.

    The event loop talks to each worker over a pipe it watches itself (no executor threads: a
    thread handing results back contends for the GIL with the loop on every feed). A worker that
    dies (a crash in the XML stack, the OOM killer) or takes longer than ``timeout`` fails the
    polls it held with a ``parse`` error, like any unparseable response, and a fresh worker takes
    its place. Use as an async context manager (or call :meth:`close`) so the workers end with
    the service.
    """

    def __init__(self, workers: int, *, timeout: float = 60.0) -> None:
        if workers < 1:
            raise ValueError("parse workers: need at least one")
        self.workers = workers
        self.timeout = timeout
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process running an event loop
        self._all: list[_Worker] = []
        self._started = False
        #: Callers waiting for a worker to take their body, first come first served.
        self._queue: deque[asyncio.Future[None]] = deque()

    def _spawn(self, loop: asyncio.AbstractEventLoop) -> _Worker:
        worker = _Worker(self._ctx)
        self._all.append(worker)
        loop.add_reader(worker.conn.fileno(), self._on_result, worker)
        return worker

    def _on_result(self, worker: _Worker) -> None:
        try:
            outcome = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            log.warning("feed parser worker died; starting another")
            self._retire(worker, asyncio.get_running_loop())
            worker.fail_all(ParseError(f"parse: worker process died ({type(exc).__name__})"))
            return
        if worker.waiting:
            waiter = worker.waiting.popleft()
            if not waiter.done():
                waiter.set_result(outcome)
        self._wake_next()

    def _wake_next(self) -> None:
        """A worker has room: let the longest-waiting caller in (one, not all of them)."""
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def _retire(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        """Stop a dead, hung or abandoned worker and start its replacement."""
        if worker not in self._all:
            return
        if not worker.conn.closed:
            loop.remove_reader(worker.conn.fileno())
        self._all.remove(worker)
        worker.conn.close()
        worker.process.kill()
        worker.process.join(1)
        self._spawn(loop)
        self._wake_next()

    async def _worker_for(self, size: int, loop: asyncio.AbstractEventLoop) -> _Worker:
        if not self._started:
            self._started = True
            for _ in range(self.workers):
                self._spawn(loop)
        while True:
            if not self._queue:  # callers already waiting go first
                for worker in sorted(self._all, key=lambda w: len(w.waiting)):
                    if worker.takes(size):
                        return worker
            turn: asyncio.Future[None] = loop.create_future()
            self._queue.append(turn)
            try:
                await turn
            except BaseException:
                if turn.done() and not turn.cancelled():
                    self._wake_next()  # our turn came as we were cancelled: pass it on
                raise
            for worker in sorted(self._all, key=lambda w: len(w.waiting)):
                if worker.takes(size):
                    return worker

    async def parse(self, body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
        loop = asyncio.get_running_loop()
        worker = await self._worker_for(len(body), loop)
        waiter: asyncio.Future[tuple[bool, object]] = loop.create_future()
        worker.waiting.append(waiter)
        if self._queue and any(w.takes(0) for w in self._all):
            self._wake_next()  # room left (a fresh worker has two places): the next caller need not wait
        try:
            worker.conn.send_bytes(pickle.dumps((body, url, content_type), protocol=pickle.HIGHEST_PROTOCOL))
            async with asyncio.timeout(self.timeout):
                ok, payload = await waiter
        except TimeoutError as exc:
            self._retire(worker, loop)
            worker.fail_all(ParseError("parse: worker restarted after another feed hung it"))
            raise ParseError(f"parse: no result within {self.timeout:g}s (worker restarted)") from exc
        except (OSError, pickle.PicklingError) as exc:  # the worker died before taking the body
            self._retire(worker, loop)
            worker.fail_all(ParseError(f"parse: worker process died ({type(exc).__name__})"))
            raise ParseError(f"parse: worker process died ({type(exc).__name__})") from exc
        except BaseException:  # cancelled: the late answer would be taken for the next caller's
            self._retire(worker, loop)
            worker.fail_all(ParseError("parse: worker restarted after a cancelled parse"))
            raise
        if ok:
            assert isinstance(payload, ParsedFeed)
            return payload
        raise ParseError(str(payload))

    def close(self) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # closed outside the loop (its readers went with it)
            loop = None
        for worker in self._all:
            if loop is not None and not worker.conn.closed:
                loop.remove_reader(worker.conn.fileno())
            worker.conn.close()  # the worker sees end-of-file and exits
        for worker in self._all:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
        self._all, self._started = [], False
        for turn in self._queue:
            turn.cancel()
        self._queue.clear()

    async def __aenter__(self) -> ProcessParser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _serve(conn: Connection) -> None:
    """A worker's life: parse what arrives until the pipe closes. Ctrl-C is the parent's business.

    Workers run at a lower priority than the event loop: when cores are short, the loop (which
    feeds them and keeps every connection moving) must not wait behind a parse.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    while True:
        try:
            body, url, content_type = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        outcome: tuple[bool, object]
        try:
            outcome = (True, parse_feed(body, url=url, content_type=content_type))
        except ParseError as exc:
            outcome = (False, str(exc))
        except Exception as exc:  # parse_feed wraps feedparser's errors; anything else is still a bad feed
            outcome = (False, f"parse: {type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            data = pickle.dumps((False, f"parse: result not transferable: {exc}"))
        try:
            conn.send_bytes(data)
        except OSError:
            return
