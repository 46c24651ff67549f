"""Waiting for a state instead of sleeping a fixed time: tests of processes poll for what they expect."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str | Callable[[], str] = "",
) -> float:
    """Poll `predicate` every `interval` seconds until it returns something true; returns the seconds it took.

    After `timeout` seconds the test fails, saying what it waited for: `message`, or what `message()` returns
    at that moment (e.g. the states it saw, or a process's log), or else the predicate's name.
    """
    started = time.monotonic()
    while not predicate():
        waited = time.monotonic() - started
        if waited > timeout:
            said = (message() if callable(message) else message) or getattr(predicate, "__name__", repr(predicate))
            pytest.fail(f"waited {waited:.1f} s (timeout {timeout} s) for: {said}")
        time.sleep(interval)
    return time.monotonic() - started
