"""A level-triggered work queue, in the manner of client-go's.

Watch events only say "this DriftCheck may need attention"; the key is queued once no
matter how many events arrive, a key is never processed by two workers at once, and a
key that changes while it is processed is processed again afterwards. Failures are
retried with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

logger = logging.getLogger(__name__)

MIN_BACKOFF = 0.5
MAX_BACKOFF = 60.0


class WorkQueue:
    def __init__(self, process: Callable[[Any], Awaitable[float | None]], workers: int) -> None:
        self._process = process
        self._workers = workers
        self._queue: asyncio.Queue[Hashable] = asyncio.Queue()
        self._queued: set[Hashable] = set()
        self._active: set[Hashable] = set()
        self._dirty: set[Hashable] = set()
        self._failures: dict[Hashable, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}

    def add(self, key: Hashable) -> None:
        if key in self._active:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def add_after(self, key: Hashable, delay: float) -> None:
        timer = self._timers.get(key)
        if timer is not None and timer.when() <= asyncio.get_running_loop().time() + delay:
            return  # an earlier retry is already due
        if timer is not None:
            timer.cancel()
        self._timers[key] = asyncio.get_running_loop().call_later(delay, self._fire, key)

    def _fire(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def depth(self) -> int:
        return self._queue.qsize() + len(self._active)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"kubedrift-worker-{i}") for i in range(self._workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for timer in self._timers.values():
            timer.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            self._active.add(key)
            try:
                again = await self._process(key)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                delay = min(MAX_BACKOFF, MIN_BACKOFF * 2 ** (failures - 1))
                logger.warning(
                    "reconcile of %s failed (attempt %d, retry in %.1fs): %s", key, failures, delay, error
                )
                self.add_after(key, delay)
            else:
                self._failures.pop(key, None)
                if again is not None:
                    self.add_after(key, again)
            finally:
                self._active.discard(key)
                if key in self._dirty:
                    self._dirty.discard(key)
                    self.add(key)
