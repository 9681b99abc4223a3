"""A small pool of threads for independent pieces of one part of a step (the kinds of
events, the schemes, ranges of people), each a numpy or compiled call that releases the
GIL. :func:`map_threads` returns only when every piece is done: nothing runs in the
background across parts of a step or across steps, so the step order in ``sim.py`` is
the order things happen in.

Every piece writes only its own result, and results are collected in submission order, so
a run's results do not depend on the number of threads. ``SCORESIM_THREADS`` sets it (by
default the cores this process may use); the worker processes of sweeps and comparisons
use one each, as they already share the cores among themselves.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from scoresim.errors import ScenarioError

T = TypeVar("T")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_local = threading.local()
_size = 0


def _forget_pool() -> None:
    """A forked child has none of the parent's threads: it starts a pool of its own."""
    global _pool, _size
    _pool, _size = None, 0


os.register_at_fork(after_in_child=_forget_pool)


def thread_count() -> int:
    env = os.environ.get("SCORESIM_THREADS", "").strip()
    if not env:
        return len(os.sched_getaffinity(0))
    if not env.isdigit() or int(env) < 1:
        raise ScenarioError(f"SCORESIM_THREADS: expected a whole number >= 1, got {env!r}.")
    return int(env)


def single_thread() -> None:
    """Initializer of worker processes: one thread each."""
    os.environ["SCORESIM_THREADS"] = "1"


# Below this many people a piece of work is too small to be worth handing to a thread.
PARALLEL_FROM = 50_000


def people_parts(n: int, people: int | None = None) -> list[tuple[int, int]]:
    """``[0, n)`` cut into one range per thread (a single range where ``people``, by
    default ``n``, is below :data:`PARALLEL_FROM`), for work item by item (people, or
    slices of them) whose result does not depend on the cut."""
    parts = thread_count() if (n if people is None else people) >= PARALLEL_FROM else 1
    return [(n * c // parts, n * (c + 1) // parts) for c in range(parts)]


def _helpers(n: int) -> ThreadPoolExecutor:
    """The pool of ``n - 1`` helper threads (the caller is the n-th)."""
    global _pool, _size
    if _pool is None or _size != n - 1:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool, _size = ThreadPoolExecutor(n - 1, thread_name_prefix="scoresim"), n - 1
    return _pool


def _in_pool(fn: Callable[[], R]) -> R:
    """``fn()``, marked as pool work: a :func:`map_threads` inside it runs on this thread
    (no nesting, no deadlock)."""
    _local.in_pool = True
    try:
        return fn()
    finally:
        _local.in_pool = False


def map_threads(fn: Callable[[T], R], items: Iterable[T], people: int) -> list[R]:
    """``[fn(x) for x in items]``, spread over the pool's threads when each piece covers
    ``people`` >= :data:`PARALLEL_FROM` people. The calling thread takes pieces too (one
    hand-off fewer), each thread taking the next piece not yet taken."""
    items = list(items)
    n = thread_count()
    if (n <= 1 or len(items) <= 1 or people < PARALLEL_FROM
            or getattr(_local, "in_pool", False)):
        return [fn(x) for x in items]  # (inside a pool thread: no nesting, no deadlock)
    helpers = min(n, len(items)) - 1
    results: list = [None] * len(items)
    taken = iter(range(len(items)))  # (next piece, taken under the lock)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i = next(taken, None)
            if i is None:
                return
            results[i] = fn(items[i])

    pool = _helpers(n)
    futures = [pool.submit(_in_pool, work) for _ in range(helpers)]
    try:
        _in_pool(work)
    finally:
        for f in futures:
            if not f.cancel():  # (a helper that has not started: nothing left for it)
                f.result()  # (re-raises a helper's exception)
    return results
