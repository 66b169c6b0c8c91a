"""Every hostile test runs under a bound: a regression to a hang fails in seconds instead of stalling CI."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

#: Seconds any one hostile test may take. Generous for a loaded 2-core machine; a hang is unbounded.
BOUND = 60


class Hang(Exception):
    """The test ran past its bound: something waited or looped without one."""


@pytest.fixture(autouse=True)
def bounded() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise Hang(f"the test ran longer than {BOUND} s: a wait or a loop has no bound")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, BOUND)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
