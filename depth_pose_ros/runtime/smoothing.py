"""Temporal smoothing of joint positions: the One-Euro filter (Casiez, Roussel, Vogel, CHI 2012).

A low-pass filter whose cutoff rises with speed: still joints are steadied (little jitter), fast
ones follow with little lag. min_cutoff (Hz) sets the smoothing at rest, beta how quickly the
cutoff opens with speed (per m/s).
"""
from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff_hz, dt: float):
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of a fixed shape (for example (7, 3) joints) sampled at irregular times."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.5, derivative_cutoff: float = 1.0):
        if min_cutoff <= 0 or beta < 0 or derivative_cutoff <= 0:
            raise ValueError("need min_cutoff > 0, beta >= 0, derivative_cutoff > 0")
        self.min_cutoff, self.beta, self.derivative_cutoff = min_cutoff, beta, derivative_cutoff
        self.reset()

    def reset(self) -> None:
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def __call__(self, value: np.ndarray, time_s: float) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._value is None or self._value.shape != value.shape or time_s <= self._time:
            # First sample, a new shape, or time going backwards (a replayed bag): start over.
            self._value, self._speed, self._time = value, np.zeros_like(value), time_s
            return value
        dt = time_s - self._time
        speed = (value - self._value) / dt
        self._speed = self._speed + _alpha(self.derivative_cutoff, dt) * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff, dt) * (value - self._value)
        self._time = time_s
        return self._value
