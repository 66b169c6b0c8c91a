"""The bound itself: a test that would wait forever fails with Hang."""

from __future__ import annotations

import signal
import time

import pytest

from .conftest import Hang


def test_a_wait_without_end_is_cut_short() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0.2)  # the fixture's bound, shortened for this test
    with pytest.raises(Hang):
        time.sleep(30)
