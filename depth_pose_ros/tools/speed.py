"""Inference speed of an exported model on this CPU: batch-1 frames/s and latency percentiles.

Measures the calls the runtime makes, on synthetic frames: PoseEstimator.estimate_virtual
(preprocessing + OpenVINO + output scaling; each frame with its mirror image in one batch of two),
the same with one pass (`estimate_virtual_one_pass`), and the node's batch of PEOPLE people
(`estimate_batch_with_confidence`, its static request). Medians over repeats, since the machines
are shared and noisy; the CPU is recorded with the figures.
"""
from __future__ import annotations

import time

import numpy as np

from depth_pose_ros.runtime.estimator import PoseEstimator
from depth_pose_ros.synth.generate import generate

PEOPLE = 4  # the node's default max_people: its largest batch


def cpu_description() -> str:
    """The CPU a figure was measured on: its model, cores, and whether it has AVX-512, native
    bf16 (OpenVINO runs bf16 only there; elsewhere f32, up to 4x slower) and AMX (which hides
    most of a deeper network's cost: stage 22 took 1.22-1.29x DNN33's time on a Xeon with it,
    1.4-1.6x on an EPYC without, BENCHMARKS.md session 42)."""
    import os
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:  # not Linux: the model name platform gives
        pass
    def has(flag):
        return "yes" if flag in flags else ("no" if flags else "unknown")
    return (f"{name}, {os.cpu_count()} cores, AVX-512 {has('avx512f')}, "
            f"native bf16 {has('avx512_bf16')}, AMX {has('amx_bf16')}")


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


def alternately(model_dirs: list, rounds: int = 2, **options) -> list[list[dict]]:
    """measure() of each model in turn, `rounds` times round: the figures to compare models by,
    since a shared machine's speed drifts within minutes (a ratio from one run, never absolute
    figures from two)."""
    for model_dir in model_dirs[1:]:  # a wrong directory fails now, not after the first timing
        PoseEstimator.load(model_dir, precision=options.get("precision"))
    return [[measure(model_dir, **options) for model_dir in model_dirs] for _ in range(rounds)]


def measure(model_dir, precision: str | None = None, seconds: float = 3.0, repeats: int = 3,
            threads: int | None = None) -> dict:
    estimator = PoseEstimator.load(model_dir, precision=precision, threads=threads)
    one_pass = PoseEstimator.load(model_dir, precision=precision, threads=threads,
                                  mirror_average=False)
    frames = generate(np.random.default_rng(0), 64).depth
    people = [frames[k:k + PEOPLE] for k in range(0, len(frames), PEOPLE)]
    estimator.prepare(PEOPLE)

    results = {}
    for name, call, data in (("estimate_virtual", estimator.estimate_virtual, frames),
                             ("estimate_virtual_one_pass", one_pass.estimate_virtual, frames),
                             (f"estimate_batch_{PEOPLE}", estimator.estimate_batch_with_confidence,
                              people)):
        results[name] = repeated(call, data, seconds, repeats)
    return {"model": str(estimator.model_dir), "precision": estimator.precision,
            "arithmetic": estimator.arithmetic, "cpu": cpu_description(),
            **results}
