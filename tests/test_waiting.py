"""The tests' wait helper: it returns once the state is reached and fails, saying what it waited for, when not."""

import time

import pytest

from tests.waiting import wait_until


def test_wait_until_returns_once_the_predicate_holds():
    ready_at = time.monotonic() + 0.2
    took = wait_until(lambda: time.monotonic() >= ready_at, timeout=5, interval=0.01)
    assert 0.15 <= took < 5


def test_wait_until_fails_after_the_timeout_with_the_message_of_that_moment():
    seen = []
    with pytest.raises(pytest.fail.Exception, match=r"timeout 0.2 s\) for: 3 polls seen"):
        wait_until(
            lambda: seen.append(1), timeout=0.2, interval=0.05, message=lambda: f"{min(len(seen), 3)} polls seen"
        )
    assert len(seen) >= 3
