"""A benchmark whose clean-up never ends, for ``test_bench_stops``: it serves Temporal's dev
server as the benchmarks do and, once stopped, waits forever before shutting it down, as a
stuck ``env.shutdown()`` or schema drop would. Run as ``python -m tests.bench.stuck_cleanup``.
"""

from __future__ import annotations

import asyncio

from bench.common import hard_exit
from bench.stopping import run_until_stopped
from bench.temporal_env import dev_server


async def main() -> None:
    """Serve until a stop signal, then hang in the clean-up."""
    async with dev_server():
        try:
            print("serving", flush=True)
            await asyncio.Event().wait()
        finally:
            print("cleaning up", flush=True)
            await asyncio.Event().wait()


if __name__ == "__main__":
    hard_exit(run_until_stopped(main()))
