"""A steady, bounded, mixed load on a live server that records every response.

The drills inject a fault while this runs and then judge the whole record: each
sample keeps when it started (monotonic clock, comparable with `Load.mark`), how
long it took, and what came back, so an assertion can say "every /health that
started after the fault was injected said timeout" rather than sampling once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers import Reply


@dataclass(frozen=True)
class Sample:
    kind: str
    started: float
    elapsed: float
    status: int | None  # None: no HTTP answer at all (refused, reset, client timeout)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def database(self) -> str | None:
        body = self.json()
        return body.get("database") if isinstance(body, dict) else None

    @property
    def outcome(self) -> str:
        """A short label for summaries: the status, plus /health's verdict."""
        if self.status is None:
            return f"no-answer:{self.error}"
        return f"{self.status}:{self.database}" if self.kind == "health" else str(self.status)


Action = Callable[[], Reply]


class Load:
    """`clients` threads, each cycling through its own list of (kind, action).

    Bounded twice: by `stop()` and by `max_seconds`, so a drill that fails
    between start and stop never leaves threads hammering a server.
    """

    def __init__(self, mixes: Sequence[Sequence[tuple[str, Action]]], pause: float = 0.02,
                 max_seconds: float = 90) -> None:
        self.mixes = mixes
        self.pause = pause
        self.max_seconds = max_seconds
        self.samples: list[Sample] = []
        self.marks: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Load:
        self.t0 = time.monotonic()
        for n, mix in enumerate(self.mixes):
            thread = threading.Thread(target=self._client, args=(mix,), name=f"load-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Sample]:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        return self.samples

    def mark(self, label: str) -> float:
        self.marks[label] = now = time.monotonic()
        return now

    def _client(self, mix: Sequence[tuple[str, Action]]) -> None:
        deadline = time.monotonic() + self.max_seconds
        i = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            kind, action = mix[i % len(mix)]
            i += 1
            started = time.monotonic()
            try:
                reply = action()
                sample = Sample(kind, started, reply.elapsed, reply.status, reply.body, reply.headers)
            except Exception as exc:  # a transport failure is a result to record, not a crash
                sample = Sample(kind, started, time.monotonic() - started, None, error=type(exc).__name__)
            with self._lock:
                self.samples.append(sample)
            self._stop.wait(self.pause)

    # --- reading the record ------------------------------------------------------

    def of(self, kind: str, after: float | None = None, before: float | None = None) -> list[Sample]:
        """Samples of `kind` that *started* in [after, before)."""
        return [s for s in self.samples if s.kind == kind
                and (after is None or s.started >= after) and (before is None or s.started < before)]

    def first(self, kind: str, after: float, ok: Callable[[Sample], bool]) -> Sample | None:
        found = [s for s in self.of(kind, after=after) if ok(s)]
        return min(found, key=lambda s: s.started) if found else None

    def counts(self, kind: str, after: float | None = None, before: float | None = None) -> Counter[str]:
        return Counter(s.outcome for s in self.of(kind, after, before))

    def worst(self, kind: str) -> float:
        return max((s.elapsed for s in self.of(kind)), default=0.0)

    def kinds(self) -> list[str]:
        return sorted({s.kind for s in self.samples})
