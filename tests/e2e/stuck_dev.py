"""``guichet dev`` whose orderly stop never ends, for ``test_dev_stops``: stopping its Temporal
dev server hangs, as a stuck stop would (a server that ignores SIGTERM holds it for
``STOP_TIMEOUT``), so that a second signal is certain to come during the clean-up. Run as
``python -m tests.e2e.stuck_dev dev ...``, with ``guichet``'s arguments.
"""

from __future__ import annotations

import asyncio

from console.cli import main
from console.devserver import DevServer


async def stop_for_ever(server: DevServer) -> int | None:
    """What ``DevServer.stop`` becomes: it never returns, and leaves the server running."""
    await asyncio.Event().wait()
    return server.process.returncode


if __name__ == "__main__":
    DevServer.stop = stop_for_ever  # type: ignore[method-assign]
    main()
