"""The node's per-frame step without ROS: pose_node, bag-eval and the smoothing benchmark run it.

One FrameTracker holds the camera gate (the last valid CameraInfo, each image's size checked
against it), the decoding of the image's bytes, the pipeline (everyone in the frame), the IDs
with their smoothing, and the choice of the one person that /body_joints carries.
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import DepthImageError, image_array
from depth_pose_ros.runtime.estimator import PoseEstimator
from depth_pose_ros.runtime.node_parameters import defaults
from depth_pose_ros.runtime.person import PersonFilter
from depth_pose_ros.runtime.pipeline import (
    CameraError,
    PosePipeline,
    UnknownDistortion,
    camera_from_intrinsics,
)
from depth_pose_ros.runtime.tracking import CHOICES, PeopleTracker, Track, choose_one


class FrameDropped(ValueError):
    """A depth image the step cannot use; kind names the reason, for counting and rate-limited
    warnings: "no_camera_info", "size", or the decoding problem's first word."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class FrameTracker:
    def __init__(self, pipeline, tracker: PeopleTracker | None = None, rule: str = "central"):
        """pipeline: a pipeline.PosePipeline; tracker: whose IDs (a new one by default)."""
        if rule not in CHOICES:
            raise ValueError(f"rule must be one of {CHOICES}, got {rule!r}")
        self.pipeline, self.rule = pipeline, rule
        self.tracker = tracker if tracker is not None else PeopleTracker()
        self.chosen_id: int | None = None
        self.camera: PinholeCamera | None = None

    @classmethod
    def like_the_node(cls, model_dir=None, **parameters) -> FrameTracker:
        """The step as pose_node runs it by default (the shipped model unless model_dir), with
        these of its parameters changed."""
        step = cls(PosePipeline(PoseEstimator.load(model_dir)))
        step.configure(defaults() | parameters)
        return step

    def configure(self, p: dict) -> None:
        """Apply pose_node's per-frame parameters (names and meaning: node_parameters)."""
        roi = (p["roi_x_offset"], p["roi_y_offset"], p["roi_width"], p["roi_height"])
        self.pipeline.configure(PersonFilter(min_depth=p["min_depth"], max_depth=p["max_depth"],
                                             remove_floor=p["remove_floor"],
                                             remove_walls=p["remove_walls"]),
                                roi if any(roi) else None, p["max_people"])
        self.tracker.lost_timeout_s, self.tracker.gate_m = p["lost_timeout"], p["tracking_gate"]
        self.tracker.set_smoothing((p["smoothing_min_cutoff"], p["smoothing_beta"])
                                   if p["smoothing"] else None)
        self.rule = p["body_joints_person"]

    def camera_info(self, width: int, height: int, k, distortion_model: str, d) -> None:
        """A CameraInfo's fields. CameraError: no camera until a valid one comes;
        UnknownDistortion: kept as a pinhole (the caller says so once)."""
        try:
            self.camera = camera_from_intrinsics(width, height, np.asarray(k), distortion_model,
                                                 np.asarray(d))
        except UnknownDistortion as error:
            self.camera = error.camera
            raise
        except CameraError:
            self.camera = None
            raise

    def depth_image(self, encoding: str, height: int, width: int, step: int, is_bigendian: bool,
                    data, stamp: float) -> tuple[list[Track], Track | None]:
        """A depth image's fields and its stamp in seconds -> step()'s result, or FrameDropped."""
        if self.camera is None:
            raise FrameDropped("no_camera_info", "no valid CameraInfo before this image")
        if (width, height) != (self.camera.width, self.camera.height):
            raise FrameDropped("size", f"image is {width} x {height} but its CameraInfo "
                                       f"{self.camera.width} x {self.camera.height}")
        try:
            raw = image_array(encoding, height, width, step, is_bigendian, data)
        except DepthImageError as error:
            raise FrameDropped(str(error).split(" ")[0], str(error)) from error
        return self.step(raw, self.camera, stamp)

    def step(self, raw: np.ndarray, camera: PinholeCamera,
             stamp: float) -> tuple[list[Track], Track | None]:
        """raw depth (its encoding's dtype) and its PinholeCamera, stamp in seconds -> the
        tracks (each detection a PersonPose, the last seen one when lost) and the chosen one."""
        people = self.pipeline.process_all(raw, camera)
        tracks = self.tracker.update(stamp, [p.joints3d for p in people], people,
                                     [p.centre for p in people])
        chosen = choose_one(tracks, self.chosen_id, self.rule)
        self.chosen_id = chosen.id if chosen is not None else None
        return tracks, chosen
