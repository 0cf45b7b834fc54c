"""A job repeated in a background thread: the digest scheduler's ticks and the index reloads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("quotebot.background")


class Every:
    """Call ``job`` now and then every ``interval_s`` seconds, until ``stop()``; a failing call is
    logged and the next one comes on time."""

    def __init__(self, interval_s: float, job: Callable[[], object], name: str):
        self.interval_s = interval_s
        self.job = job
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Every:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.job()
            except Exception:
                log.exception("%s failed; trying again in %s s", self.name, self.interval_s)
            self._stop.wait(self.interval_s)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop repeating; a run in progress finishes first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
