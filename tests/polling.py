"""Waiting on a condition, never on a fixed delay: workers, visibility and schedules answer
asynchronously, sooner on an idle machine and later on a loaded one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None]], seconds: float = 30.0, every: float = 0.05
) -> T:
    """What ``check`` returns once it is truthy, polled every ``every`` s for ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not (found := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"the condition never held in {seconds:g} s")
        await asyncio.sleep(every)
    return found
