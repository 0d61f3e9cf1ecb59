"""One depth frame from any camera -> the person's joints, in that camera's frame and pixels.

reproject (VirtualView) -> isolate the person (person.extract_person) -> DNN33 (PoseEstimator)
-> joints in metres (the optical frame is shared) and pixels of the source image.
No ROS imports: the node, `depth-pose estimate` and the tests all call PosePipeline.process().
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.estimator import PoseEstimator
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.person import PersonExtractor, PersonFilter
from depth_pose_ros.reproject import VirtualView


class CameraError(ValueError):
    """Intrinsics that cannot describe a camera (zeros, NaN, size mismatch)."""


def camera_from_intrinsics(width: int, height: int, k: np.ndarray) -> PinholeCamera:
    """A CameraInfo's size and 3 x 3 K (row-major, 9 values) -> PinholeCamera, or CameraError."""
    k = np.asarray(k, dtype=np.float64).ravel()
    if k.size != 9 or not np.all(np.isfinite(k)):
        raise CameraError(f"camera matrix K must be 9 finite numbers, got {k.tolist()}")
    fx, cx, fy, cy = k[0], k[2], k[4], k[5]
    if width <= 0 or height <= 0:
        raise CameraError(f"camera size {width} x {height} is empty")
    if fx <= 0 or fy <= 0:
        raise CameraError(f"focal lengths must be positive, got fx={fx}, fy={fy}")
    return PinholeCamera(int(width), int(height), float(fx), float(fy), float(cx), float(cy))


@dataclass(frozen=True)
class PersonPose:
    detected: bool
    names: tuple[str, ...]
    joints3d: np.ndarray  # (7, 3) metres in the source camera's optical frame (NaN if not detected)
    pixels: np.ndarray  # (7, 2) (u, v) in the source image
    in_view: np.ndarray  # (7,) bool: the joint projects inside the source image
    network_input: np.ndarray  # (50, 60) metres: what the network saw (0 = nothing)
    # (7,) 0..1: the model's P(within 10 cm), or, for a model without error scales, 1 in view
    # and 0 outside it (BodyJoints.msg)
    confidence: np.ndarray


class PosePipeline:
    """Keeps the estimator and one VirtualView per source camera (rebuilt when it changes)."""

    def __init__(self, estimator: PoseEstimator, person_filter: PersonFilter = PersonFilter(),
                 roi: tuple[int, int, int, int] | None = None):
        self.estimator = estimator
        self.person_filter = person_filter
        self.roi = roi
        self._view: VirtualView | None = None
        self._extractor: PersonExtractor | None = None

    def configure(self, person_filter: PersonFilter, roi: tuple[int, int, int, int] | None) -> None:
        self.person_filter, self.roi = person_filter, roi
        self._view = self._extractor = None  # rebuilt for the next frame

    def view_for(self, source: PinholeCamera) -> VirtualView:
        if self._view is None or self._view.source != source:
            self._view = VirtualView(source, self.estimator.camera, self.roi)
            self._extractor = PersonExtractor(self._view.virtual, self.person_filter,
                                              self._view.observed)
        return self._view

    def process(self, raw: np.ndarray, source: PinholeCamera) -> PersonPose:
        """raw: (H, W) depth in its encoding's dtype (see depth_image), H x W = the camera's size."""
        view = self.view_for(source)
        depth = view.sample(raw)
        mask = self._extractor(depth)
        network_input = np.where(mask, depth, np.float32(0.0))
        if not mask.any():
            nothing = np.full((len(JOINT_NAMES), 3), np.nan)
            return PersonPose(False, JOINT_NAMES, nothing, nothing[:, :2].copy(),
                              np.zeros(len(JOINT_NAMES), bool), network_input,
                              np.zeros(len(JOINT_NAMES), np.float32))
        pose = self.estimator.estimate_virtual(network_input)
        # Same optical centre and axes: 3D carries over; pixels map along the same rays.
        pixels = view.to_source_pixels(pose.pixels)
        in_view = source.in_view(pixels)
        confidence = in_view.astype(np.float32) if pose.confidence is None else pose.confidence
        return PersonPose(True, pose.names, pose.joints3d.astype(np.float64), pixels,
                          in_view, network_input, confidence)
