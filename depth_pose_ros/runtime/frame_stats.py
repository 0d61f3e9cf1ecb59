"""What the node did over one reporting window (its /diagnostics): frames in and out, frames
dropped and why, latency, people seen. ROS-free, so it is tested without the middleware."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class WindowSummary:
    seconds: float
    input_hz: float
    output_hz: float
    dropped: int
    latency_p50_ms: float  # NaN when nothing was published
    latency_p99_ms: float
    people_seen: int  # in the window's last published frame
    problems: dict[str, str]  # kind -> the last message of that kind


@dataclass
class FrameStats:
    """Counters of the current window; summary() closes it and starts the next."""
    start: float
    inputs: int = 0
    outputs: int = 0
    dropped: int = 0
    people_seen: int = 0
    # bounded: with /diagnostics off nothing closes the window
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    problems: dict[str, str] = field(default_factory=dict)

    def received(self) -> None:
        self.inputs += 1

    def published(self, latency_s: float, people: int) -> None:
        self.outputs += 1
        self.latencies_s.append(latency_s)
        self.people_seen = people

    def problem(self, kind: str, message: str, dropped: bool = True) -> None:
        """A frame dropped (or a warning that drops nothing) of a kind, with its message."""
        self.dropped += int(dropped)
        self.problems[kind] = message

    def summary(self, now: float) -> WindowSummary:
        seconds = max(now - self.start, 1e-9)
        ms = np.asarray(self.latencies_s) * 1e3
        p50, p99 = np.percentile(ms, [50, 99]) if len(ms) else (np.nan, np.nan)
        result = WindowSummary(seconds, self.inputs / seconds, self.outputs / seconds,
                               self.dropped, float(p50), float(p99), self.people_seen,
                               dict(self.problems))
        people = self.people_seen
        self.__init__(start=now)
        self.people_seen = people  # still who was last seen, until the next frame says otherwise
        return result
