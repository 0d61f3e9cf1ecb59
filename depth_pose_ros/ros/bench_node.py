"""`depth-pose bench-node`: pose_node's latency and throughput on 640 x 480 16UC1 input.

The synthetic camera runs as its own process and publishes at the asked rate; pose_node runs in
this process (the same PoseNode class `depth-pose-node` runs), so its own clock measures each
frame from the callback's start (image received) to /body_joints published. After a warm-up,
the measured window gives the latency percentiles, the processed rate against the camera's
rate, and whether latency grows from the window's first half to its second (a queue building).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import numpy as np

from depth_pose_ros.ros.processes import (
    pose_node_arguments,
    ros_environment,
    start_synthetic_camera,
)


def run(duration: float = 10.0, rate: float = 500.0, warmup: float = 3.0,
        precision: str | None = None, people: int = 1) -> dict:
    os.environ.update(ros_environment())
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from depth_pose_ros.ros.pose_node import PoseNode

    camera = start_synthetic_camera("-p", f"rate:={rate}", "-p", "keyframes:=2", "-p", "steps:=10",
                                    "-p", f"people:={people}", stdout=subprocess.PIPE)
    precision_args = ["-p", f"precision:={precision}"] if precision else []
    rclpy.init(args=pose_node_arguments("-p", "stats_period:=0.0", *precision_args))
    try:
        node = PoseNode()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        deadline = time.monotonic() + 120  # the camera renders its frames first
        while not node.latencies and time.monotonic() < deadline and camera.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        if not node.latencies:
            raise RuntimeError("no frames from the synthetic camera")
        end = time.monotonic() + warmup
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        node.latencies.clear()
        start = time.monotonic()
        while time.monotonic() - start < duration:
            executor.spin_once(timeout_sec=0.05)
        elapsed = time.monotonic() - start
        latencies = np.asarray(node.latencies) * 1e3
        node.destroy_node()
    finally:
        rclpy.try_shutdown()
        camera.send_signal(signal.SIGINT)
        output, _ = camera.communicate(timeout=30)
    sent = re.search(r"\(([\d.]+) Hz\)", output or "")
    half = len(latencies) // 2
    return {
        "input": f"640 x 480 16UC1, {people} {'person' if people == 1 else 'people'}, "
                 "synthetic camera process, loopback",
        "requested_hz": rate,
        "camera_hz": float(sent.group(1)) if sent else None,
        "processed_hz": round(len(latencies) / elapsed, 1),
        "frames": int(len(latencies)),
        "latency_ms": {"p50": round(float(np.percentile(latencies, 50)), 3),
                       "p99": round(float(np.percentile(latencies, 99)), 3),
                       "max": round(float(latencies.max()), 3)},
        "p50_first_half_ms": round(float(np.median(latencies[:half])), 3),
        "p50_second_half_ms": round(float(np.median(latencies[half:])), 3),
    }


def report(result: dict) -> str:
    lat = result["latency_ms"]
    lines = [f"pose_node, {result['input']}, {result['frames']} frames measured",
             f"  receipt -> /body_joints published: p50 {lat['p50']:.3f} ms, "
             f"p99 {lat['p99']:.3f} ms, max {lat['max']:.3f} ms",
             f"  camera published {result['camera_hz']} Hz (asked {result['requested_hz']:g}); "
             f"node processed {result['processed_hz']} Hz",
             f"  p50 first half {result['p50_first_half_ms']:.3f} ms, second half "
             f"{result['p50_second_half_ms']:.3f} ms (growth would mean a queue building)"]
    return "\n".join(lines)
