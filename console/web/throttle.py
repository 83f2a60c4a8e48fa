"""Slowing down repeated failed sign-ins, per account and per address.

After a few free failures each further attempt must wait twice as long as the last
(1 s, 2 s, 4 s … up to 15 min). The server never sleeps: a throttled attempt is answered at
once with 429 and ``Retry-After``, so a guessing client costs us nothing. A success clears
the account's count (not the address's: one address may try many accounts).

The counts live in this process: with several console replicas, put them in a shared store
(or rely on the OIDC provider, which is the production path).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 50_000


@dataclass
class _Failures:
    count: int
    last: float


class SignInThrottle:
    """Remembers failures per key (``account:NAME``, ``address:IP``) and says how long to wait."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        free_per_account: int = 3,
        free_per_address: int = 10,
        base_delay: float = 1.0,
        max_delay: float = 900.0,
    ) -> None:
        self._clock = clock
        self._free = {"account": free_per_account, "address": free_per_address}
        self._base = base_delay
        self._max = max_delay
        self._failures: dict[str, _Failures] = {}

    def retry_after(self, username: str, address: str) -> float:
        """Seconds to wait before this attempt may be checked; 0 when it may go ahead."""
        now = self._clock()
        return max(
            self._wait(f"account:{username}", "account", now),
            self._wait(f"address:{address}", "address", now),
        )

    def failed(self, username: str, address: str) -> None:
        """Count a failed attempt against the account and the address."""
        now = self._clock()
        if len(self._failures) > MAX_KEYS:
            self._forget_oldest()
        for key in (f"account:{username}", f"address:{address}"):
            entry = self._failures.setdefault(key, _Failures(0, now))
            entry.count += 1
            entry.last = now

    def succeeded(self, username: str) -> None:
        """A right password clears the account's failures."""
        self._failures.pop(f"account:{username}", None)

    def _wait(self, key: str, kind: str, now: float) -> float:
        entry = self._failures.get(key)
        if entry is None or entry.count < self._free[kind]:
            return 0.0
        delay = min(self._max, self._base * 2.0 ** (entry.count - self._free[kind]))
        return max(0.0, entry.last + delay - now)

    def _forget_oldest(self) -> None:
        by_age = sorted(self._failures.items(), key=lambda item: item[1].last)
        for key, _ in by_age[: len(by_age) // 2]:
            del self._failures[key]
