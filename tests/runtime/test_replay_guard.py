"""The duplicate cache: a signed callback delivered again gets its first answer, on a monotonic clock."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from ivrc.runtime.server.replay import Cached, ReplayGuard

T0 = datetime(2024, 1, 19, 12, 0, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=5)
ANSWER = Cached(200, b'{"action":{"name":"hangup"}}', "application/json")


class Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_delivery_gets_the_first_answer() -> None:
    guard = ReplayGuard(WINDOW)
    assert guard.answer_for("sig-a", T0) is None
    guard.remember("sig-a", T0, ANSWER)
    assert guard.answer_for("sig-a", T0) == ANSWER


def test_same_signature_with_another_timestamp_is_a_different_request() -> None:
    guard = ReplayGuard(WINDOW)
    guard.remember("sig-a", T0, ANSWER)
    assert guard.answer_for("sig-a", T0 + timedelta(seconds=1)) is None
    assert guard.answer_for("sig-b", T0) is None


def test_an_entry_lives_twice_the_window_on_the_monotonic_clock() -> None:
    clock = Monotonic()
    guard = ReplayGuard(WINDOW, monotonic=clock)
    guard.remember("sig-a", T0, ANSWER)
    clock.now += 2 * WINDOW.total_seconds()
    assert guard.answer_for("sig-a", T0) == ANSWER
    clock.now += 0.001
    assert guard.answer_for("sig-a", T0) is None
    assert len(guard) == 0


def test_the_first_answer_stays_when_two_deliveries_finish_together() -> None:
    guard = ReplayGuard(WINDOW)
    guard.remember("sig-a", T0, ANSWER)
    guard.remember("sig-a", T0, Cached(200, b"other", "application/json"))
    assert guard.answer_for("sig-a", T0) == ANSWER


def test_entry_and_byte_caps_forget_the_oldest_first() -> None:
    guard = ReplayGuard(WINDOW, max_entries=3)
    for name in ("a", "b", "c", "d"):
        guard.remember(name, T0, ANSWER)
    assert len(guard) == 3 and guard.answer_for("a", T0) is None and guard.answer_for("d", T0) == ANSWER
    small = ReplayGuard(WINDOW, max_bytes=3 * len(ANSWER.body))
    for name in ("a", "b", "c", "d"):
        small.remember(name, T0, ANSWER)
    assert len(small) == 3 and small.answer_for("a", T0) is None


@pytest.mark.parametrize(("window", "cap"), [(timedelta(0), 10), (-WINDOW, 10), (WINDOW, 0)])
def test_nonsense_configuration_is_refused(window: timedelta, cap: int) -> None:
    with pytest.raises(ValueError):
        ReplayGuard(window, cap)


def test_concurrent_deliveries_keep_one_answer() -> None:
    guard = ReplayGuard(WINDOW)
    barrier = threading.Barrier(16)

    def deliver(i: int) -> None:
        barrier.wait()
        if guard.answer_for("sig-x", T0) is None:
            guard.remember("sig-x", T0, Cached(200, str(i).encode(), None))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(guard) == 1
