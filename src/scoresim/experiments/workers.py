"""Worker processes of sweeps and comparisons: one thread each, and they end when their
driver dies (a SIGKILLed ``scoresim sweep`` leaves no process behind). The driver waits for
them in short slices (:func:`completed`), so that a Ctrl-C is seen within a fraction of a
second whichever of its threads the kernel hands the signal to."""

from __future__ import annotations

import os
import signal
import threading
import time

from scoresim.engine.threads import single_thread

PR_SET_PDEATHSIG = 1


def worker_init(parent: int) -> None:
    """Initializer of pool processes: ``ProcessPoolExecutor(initializer=worker_init,
    initargs=(os.getpid(),))``. Workers ignore Ctrl-C: the driver decides (and stops them,
    :func:`stop_pool`); SIGHUP too, and SIGTERM (which stops them) ends them at once."""
    single_thread()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):  # (a closed terminal: the driver decides, as for Ctrl-C)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (the driver's handler, forked: not ours)
    die_with_parent(parent)


def stop_pool(pool) -> None:
    """End a ``ProcessPoolExecutor`` now: its workers are terminated, queued work dropped
    (on Ctrl-C, instead of waiting for the runs in progress to finish)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends: the kernel's parent-death signal where there is
    one (Linux), and a watchdog thread that checks the parent's pid every second."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was set up
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="scoresim-watchdog", daemon=True).start()


#: The longest the driver waits for its workers' results without running Python code.
#: The kernel hands a Ctrl-C (SIGINT to the process) to any thread of the driver that does
#: not block it, not always the main one; Python then only sets a flag, and the main
#: thread raises KeyboardInterrupt when it next runs: a wait with no timeout (as_completed,
#: Future.result, Executor.map) would first wait for a run in progress to finish, tens of
#: seconds (tests/test_reliability.py, test_ctrl_c_on_any_thread_of_the_driver_...).
POLL_S = 0.2


def completed(futures):
    """The futures as they finish (as ``concurrent.futures.as_completed``), waiting at most
    :data:`POLL_S` at a time so that a pending Ctrl-C is raised at once."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
        yield from done
