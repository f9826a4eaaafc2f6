"""The replay guard: a repeated signed callback is caught while its timestamp is still valid."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from ivrc.runtime.server.replay import ReplayGuard

T0 = datetime(2024, 1, 19, 12, 0, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=5)


def test_first_delivery_passes_and_the_second_is_caught() -> None:
    guard = ReplayGuard(WINDOW)
    assert guard.seen_before("sig-a", T0, T0) is False
    assert guard.seen_before("sig-a", T0, T0 + timedelta(seconds=1)) is True


def test_same_signature_with_another_timestamp_is_a_different_request() -> None:
    guard = ReplayGuard(WINDOW)
    assert not guard.seen_before("sig-a", T0, T0)
    assert not guard.seen_before("sig-a", T0 + timedelta(seconds=1), T0)
    assert not guard.seen_before("sig-b", T0, T0)
    assert len(guard) == 3


def test_an_entry_lives_until_its_timestamp_leaves_the_window() -> None:
    guard = ReplayGuard(WINDOW)
    guard.seen_before("sig-a", T0, T0)
    # Still inside the window at exactly timestamp + window: verify() would accept it.
    assert guard.seen_before("sig-a", T0, T0 + WINDOW) is True
    guard.seen_before("other", T0 + WINDOW, T0 + WINDOW + timedelta(microseconds=1))
    assert len(guard) == 1  # sig-a expired and was evicted


def test_a_future_dated_request_is_remembered_until_its_own_expiry() -> None:
    guard = ReplayGuard(WINDOW)
    future = T0 + timedelta(minutes=4)
    guard.seen_before("sig-f", future, T0)
    assert guard.seen_before("sig-f", future, T0 + timedelta(minutes=8)) is True


def test_an_already_expired_timestamp_is_not_stored() -> None:
    guard = ReplayGuard(WINDOW)
    assert guard.seen_before("old", T0, T0 + WINDOW + timedelta(seconds=1)) is False
    assert len(guard) == 0


def test_expired_entries_are_evicted_as_time_moves_on() -> None:
    guard = ReplayGuard(WINDOW)
    for i in range(100):
        guard.seen_before(f"sig-{i}", T0 + timedelta(seconds=i), T0 + timedelta(seconds=i))
    assert len(guard) == 100
    later = T0 + timedelta(seconds=50) + WINDOW + timedelta(microseconds=1)
    guard.seen_before("new", later, later)
    assert len(guard) == 100 - 51 + 1


def test_hard_cap_evicts_the_oldest_entries() -> None:
    guard = ReplayGuard(WINDOW, max_entries=3)
    for name in ("a", "b", "c", "d"):
        guard.seen_before(name, T0, T0)
    assert len(guard) == 3
    assert guard.seen_before("d", T0, T0) is True
    assert guard.seen_before("a", T0, T0) is False  # pushed out by the cap


@pytest.mark.parametrize(
    ("window", "cap"), [(timedelta(0), 10), (-WINDOW, 10), (WINDOW, 0)]
)
def test_nonsense_configuration_is_refused(window: timedelta, cap: int) -> None:
    with pytest.raises(ValueError):
        ReplayGuard(window, cap)


def test_concurrent_deliveries_of_one_request_let_exactly_one_through() -> None:
    guard = ReplayGuard(WINDOW)
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def deliver() -> None:
        barrier.wait()
        results.append(guard.seen_before("sig-x", T0, T0))

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(False) == 1
