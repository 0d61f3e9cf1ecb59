"""`depth-pose bench-smoothing`: does the One-Euro filter help pose_node's output?

Runs the node's per-frame step (frame_tracker.FrameTracker: the pipeline, IDs and the One-Euro
filter per ID, as pose_node; no ROS) at 30 Hz on the demo's 640 x 480 frames with fresh sensor
noise (sigma 1.875 cm) in every frame: a person holding still (one frame repeated) and the
moving loop. Reports the median 3D error against the rendered truth and the jitter: the RMS
of the estimate's frame-to-frame change minus the truth's (0 for a perfect or perfectly
steady-error estimator).
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.learn.augment import TEST_NOISE_SIGMA, add_depth_noise
from depth_pose_ros.runtime.estimator import PoseEstimator
from depth_pose_ros.runtime.frame_tracker import FrameTracker
from depth_pose_ros.runtime.pipeline import PosePipeline
from depth_pose_ros.runtime.tracking import SMOOTHING, PeopleTracker, track_pose
from depth_pose_ros.synth.scenes import DEMO_CAMERA, demo_sequence

RATE_HZ = 30.0
SETTINGS = {"off": None, "one-euro 0.5 Hz, beta 0.5": (0.5, 0.5),
            "one-euro 1.0 Hz, beta 0.5": (1.0, 0.5),
            "one-euro 2.0 Hz, beta 1.0 (node default until session 23)": (2.0, 1.0),
            "one-euro 1.0 Hz, beta 5": (1.0, 5.0),
            f"one-euro {SMOOTHING[0]:g} Hz, beta {SMOOTHING[1]:g} (node default)": SMOOTHING}


def _published(pipeline, depth, seed: int, smoothing) -> np.ndarray:
    """What the node publishes on /body_joints for each frame: the per-frame step it runs
    (frame_tracker.FrameTracker: pipeline, IDs, One-Euro per ID, reset when a person is lost), at
    30 Hz stamps. (T, 7, 3); NaN where nobody was tracked."""
    frames = FrameTracker(pipeline, PeopleTracker(smoothing=smoothing))
    rng = np.random.default_rng(seed)  # the same noise for every setting
    joints = []
    for k, frame in enumerate(depth):
        noisy = to_millimetres(add_depth_noise(frame, TEST_NOISE_SIGMA, rng))
        _, chosen = frames.step(noisy, DEMO_CAMERA, k / RATE_HZ)
        joints.append(track_pose(chosen).joints3d if chosen is not None
                      else np.full((len(JOINT_NAMES), 3), np.nan))
    return np.array(joints)


def run(seed: int = 0, model_dir=None) -> dict:
    pipeline = PosePipeline(PoseEstimator.load(model_dir))
    sequence = demo_sequence(seed)
    scenes = {"still": (np.repeat(sequence.depth[:1], 90, axis=0),
                        np.repeat(sequence.joints3d[:1], 90, axis=0)),
              "moving": (np.concatenate([sequence.depth] * 2),
                         np.concatenate([sequence.joints3d] * 2))}
    result = {}
    for scene, (depth, truth) in scenes.items():
        for name, setting in SETTINGS.items():
            estimates = _published(pipeline, depth, seed + 1, setting)
            error = np.linalg.norm(estimates - truth, axis=2)
            wobble = np.diff(estimates, axis=0) - np.diff(truth, axis=0)
            found = np.isfinite(error).all(axis=1)
            result[f"{scene}, {name}"] = {
                "median_error_cm": round(100 * float(np.nanmedian(error)), 2),
                "jitter_rms_cm": round(100 * float(np.sqrt(np.nanmean((wobble ** 2).sum(axis=2)))),
                                       2),
                "frames_with_a_person": int(found.sum()), "frames": len(found)}
    return result


def report(result: dict) -> str:
    lines = ["| scene, smoothing | median 3D error | jitter (RMS frame-to-frame) |",
             "| --- | --- | --- |"]
    lines += [f"| {k} | {v['median_error_cm']:.2f} cm | {v['jitter_rms_cm']:.2f} cm |"
              for k, v in result.items()]
    return "\n".join(lines)
