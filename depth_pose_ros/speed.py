"""Inference speed of an exported model on this CPU: batch-1 frames/s and latency percentiles.

Measures PoseEstimator.estimate_virtual (preprocessing + OpenVINO + output scaling) on real
synthetic frames, as the runtime calls it (each frame with its mirror image in one batch of two)
and with one pass (`estimate_virtual_one_pass`), and the bare OpenVINO request alone. Medians over
repeats, since the machines are shared and noisy.
"""
from __future__ import annotations

import time

import numpy as np

from depth_pose_ros.estimator import PoseEstimator
from depth_pose_ros.synth import generate


def timed(call, frames, seconds: float) -> np.ndarray:
    """Per-call latencies (s) of call(frame) cycling over frames for about `seconds`."""
    latencies = []
    deadline = time.perf_counter() + seconds
    k = 0
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        call(frames[k % len(frames)])
        latencies.append(time.perf_counter() - start)
        k += 1
    return np.asarray(latencies)


def repeated(call, frames, seconds: float, repeats: int) -> dict:
    """call(frame) timed in `repeats` runs sharing `seconds`: medians over the runs of frames/s
    and of the p50 / p99 latency (µs), since the machines are shared and noisy."""
    runs = [timed(call, frames, seconds / repeats) for _ in range(repeats)]
    return {"fps": float(np.median([len(r) / r.sum() for r in runs])),
            "p50_us": float(np.median([np.percentile(r, 50) for r in runs]) * 1e6),
            "p99_us": float(np.median([np.percentile(r, 99) for r in runs]) * 1e6)}


def measure(model_dir, precision: str | None = None, seconds: float = 3.0, repeats: int = 3,
            threads: int | None = None) -> dict:
    estimator = PoseEstimator.load(model_dir, precision=precision, threads=threads)
    one_pass = PoseEstimator.load(model_dir, precision=precision, threads=threads,
                                  mirror_average=False)
    frames = generate(np.random.default_rng(0), 64).depth
    inputs = estimator.preprocessor.inputs(frames)
    request = one_pass._request  # the bare inference call, for where the time goes

    results = {}
    for name, call, data in (("estimate_virtual", estimator.estimate_virtual, frames),
                             ("estimate_virtual_one_pass", one_pass.estimate_virtual, frames),
                             ("openvino_infer", lambda x: request.infer([x[None]]), inputs)):
        results[name] = repeated(call, data, seconds, repeats)
    return {"model": str(model_dir), "precision": estimator.precision, **results}
