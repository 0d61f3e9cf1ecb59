"""One depth frame from any camera -> every person's joints, in that camera's frame and pixels.

1. An overview (reproject.overview_camera): the whole source image, lens distortion undone, at
   the network's angular resolution; person isolation (person.PersonExtractor.people) finds every
   person-like surface in it, closest first, up to max_people.
2. For each person, the network's 60 x 50, 57 degree virtual camera turned about the optical
   centre to look at them (reproject.look_at); their depth resampled into it, z along its axis,
   and their overview mask carried over to its pixels.
3. DNN33 (PoseEstimator) on all of them in one batch; joints and pixels turned back into the
   source camera.
One person (process) is the one-person case of the same path. No ROS imports: the node,
`depth-pose estimate`, bag-eval and the tests all call PosePipeline.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.distortion import MODELS
from depth_pose_ros.estimator import PoseEstimator
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.person import PersonExtractor, PersonFilter, grow_by_neighbours
from depth_pose_ros.reproject import VirtualView, look_at, overview_camera

class CameraError(ValueError):
    """Intrinsics that cannot describe a camera (zeros, NaN, size mismatch)."""


def camera_from_intrinsics(width: int, height: int, k: np.ndarray, distortion_model: str = "",
                           d=()) -> PinholeCamera:
    """A CameraInfo's size, 3 x 3 K (row-major, 9 values), distortion model and D ->
    PinholeCamera, or CameraError. An unknown distortion model with non-zero D raises
    UnknownDistortion, which carries the camera as a pinhole."""
    k = np.asarray(k, dtype=np.float64).ravel()
    if k.size != 9 or not np.all(np.isfinite(k)):
        raise CameraError(f"camera matrix K must be 9 finite numbers, got {k.tolist()}")
    fx, cx, fy, cy = k[0], k[2], k[4], k[5]
    if width <= 0 or height <= 0:
        raise CameraError(f"camera size {width} x {height} is empty")
    if fx <= 0 or fy <= 0:
        raise CameraError(f"focal lengths must be positive, got fx={fx}, fy={fy}")
    d = tuple(float(x) for x in np.asarray(d, dtype=np.float64).ravel())
    if not np.all(np.isfinite(d)):
        raise CameraError(f"distortion coefficients D must be finite, got {list(d)}")
    pinhole = PinholeCamera(int(width), int(height), float(fx), float(fy), float(cx), float(cy))
    if not distortion_model or not any(d):
        return pinhole
    if distortion_model not in MODELS:
        raise UnknownDistortion(distortion_model, pinhole)
    return PinholeCamera(pinhole.width, pinhole.height, pinhole.fx, pinhole.fy, pinhole.cx,
                         pinhole.cy, distortion_model, d)


class UnknownDistortion(CameraError):
    """A distortion model we do not know: the frame is treated as a pinhole (self.camera)."""

    def __init__(self, model: str, camera: PinholeCamera):
        super().__init__(f"distortion model {model!r} is not one of {', '.join(MODELS)}; "
                         "treating the images as undistorted (pinhole)")
        self.camera = camera


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
    # the person's pixels in the source image: (x_offset, y_offset, width, height), as
    # sensor_msgs/RegionOfInterest; zeros when not detected
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    # (3, 3) the network's virtual camera, turned to look at the person: its axes as columns in
    # the source's optical frame
    view_rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    # (3,) metres, source frame: the mean of the person's visible surface, where the virtual
    # camera looks (measured, not estimated: what the tracker follows)
    centre: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))


def nobody() -> PersonPose:
    nothing = np.full((len(JOINT_NAMES), 3), np.nan)
    return PersonPose(False, JOINT_NAMES, nothing, nothing[:, :2].copy(),
                      np.zeros(len(JOINT_NAMES), bool), np.zeros(PinholeCamera.virtual().shape,
                                                                np.float32),
                      np.zeros(len(JOINT_NAMES), np.float32))


class PosePipeline:
    """Keeps the estimator and one overview per source camera (rebuilt when it changes)."""

    def __init__(self, estimator: PoseEstimator, person_filter: PersonFilter = PersonFilter(),
                 roi: tuple[int, int, int, int] | None = None, max_people: int = 4):
        self.estimator = estimator
        self.configure(person_filter, roi, max_people)

    def configure(self, person_filter: PersonFilter, roi: tuple[int, int, int, int] | None,
                  max_people: int = 4) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        self.person_filter, self.roi, self.max_people = person_filter, roi, max_people
        self._overview: VirtualView | None = None  # rebuilt for the next frame
        self._extractor: PersonExtractor | None = None

    def overview_for(self, source: PinholeCamera) -> VirtualView:
        if self._overview is None or self._overview.source != source:
            self._overview = VirtualView(source, overview_camera(source, self.estimator.camera),
                                         self.roi)
            self._extractor = PersonExtractor(self._overview.virtual, self.person_filter,
                                              self._overview.observed)
            self._overview_rays = self._overview.virtual.back_project_image(
                np.ones(self._overview.virtual.shape))
        return self._overview

    def process(self, raw: np.ndarray, source: PinholeCamera) -> PersonPose:
        """The closest person (the paper's rule), or nobody(): the one-person case of
        process_all. raw: (H, W) depth in its encoding's dtype (see depth_image), H x W = the
        camera's size."""
        people = self.process_all(raw, source, limit=1)
        return people[0] if people else nobody()

    def process_all(self, raw: np.ndarray, source: PinholeCamera,
                    limit: int | None = None) -> list[PersonPose]:
        """Every person found, closest first, at most limit (default max_people)."""
        overview = self.overview_for(source)
        depth = overview.sample(raw)
        masks = self._extractor.people(depth, limit or self.max_people)
        if not masks:
            return []
        points = self._overview_rays * depth[..., None]  # the overview is not turned
        centres = [points[mask].mean(axis=0) for mask in masks]
        views, inputs = [], []
        for mask, centre in zip(masks, centres):
            view = VirtualView(source, self.estimator.camera, self.roi, look_at(centre))
            turned = view.sample(raw)
            person = self._person_in(view, turned, mask, depth[mask].min(), depth[mask].max())
            inputs.append(np.where(person, turned, np.float32(0)))
            views.append(view)
        if len(inputs) == 1:
            pose = self.estimator.estimate_virtual(inputs[0])
            joints, pixels = pose.joints3d[None], pose.pixels[None]
            confidence = None if pose.confidence is None else pose.confidence[None]
        else:
            joints, pixels, confidence = self.estimator.estimate_batch_with_confidence(
                np.stack(inputs))
        people = []
        for k, (view, mask, centre) in enumerate(zip(views, masks, centres)):
            # The turned camera shares the optical centre: turn the joints back, and map the
            # pixels along the same rays.
            source_pixels = view.to_source_pixels(pixels[k])
            in_view = source.in_view(source_pixels)
            people.append(PersonPose(
                True, JOINT_NAMES, view.to_source_points(joints[k]), source_pixels, in_view,
                inputs[k], in_view.astype(np.float32) if confidence is None else confidence[k],
                self._box(overview, mask, source), view.rotation, centre))
        return people

    def _person_in(self, view: VirtualView, depth: np.ndarray, overview_mask: np.ndarray,
                   nearest: float, farthest: float) -> np.ndarray:
        """The person's pixels in a turned view: those whose ray meets the person's overview
        mask (grown by a pixel: the two grids differ by up to half a pixel) at a depth (source z)
        within the span the person has there, above the floor. The overview decided what is a
        person; this only carries its mask over at the turned camera's pixels."""
        flt = self.person_filter
        rays = view.rays
        source_z = rays[..., 2] * depth  # what the overview measured: z along the source's axis
        step = flt.max_depth_step
        person = (depth >= flt.min_depth) & (depth <= flt.max_depth) & \
            (source_z >= nearest - step) & (source_z <= farthest + step)
        floor = self._extractor.floor if flt.remove_floor else None
        if floor is not None:  # the overview's plane; a turned pixel's point is its ray times z
            person &= (rays * depth[..., None]) @ floor[0] + floor[1] > flt.floor_tolerance
        overview = self._overview
        at = np.rint(overview.virtual.project(rays))
        col, row = at[..., 0], at[..., 1]
        inside = (col >= 0) & (col < overview.virtual.width) & (row >= 0) & \
            (row < overview.virtual.height) & (rays[..., 2] > 0)
        on_mask = np.zeros(depth.shape, bool)
        on_mask[inside] = grow_by_neighbours(overview_mask)[row[inside].astype(int),
                                                           col[inside].astype(int)]
        return person & on_mask

    @staticmethod
    def _box(overview: VirtualView, mask: np.ndarray, source: PinholeCamera):
        """The overview mask's bounding box in source pixels, clipped to the image."""
        rows, cols = np.nonzero(mask)
        corners = overview.to_source_pixels(np.array(
            [[cols.min() - 0.5, rows.min() - 0.5], [cols.max() + 0.5, rows.max() + 0.5],
             [cols.min() - 0.5, rows.max() + 0.5], [cols.max() + 0.5, rows.min() - 0.5]]))
        (u0, v0), (u1, v1) = corners.min(axis=0), corners.max(axis=0)
        u0, v0 = int(np.clip(np.floor(u0 + 0.5), 0, source.width)), \
            int(np.clip(np.floor(v0 + 0.5), 0, source.height))
        u1, v1 = int(np.clip(np.ceil(u1 + 0.5), 0, source.width)), \
            int(np.clip(np.ceil(v1 + 0.5), 0, source.height))
        return (u0, v0, u1 - u0, v1 - v0)
