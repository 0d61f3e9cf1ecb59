"""One depth frame from any camera -> every person's joints, in that camera's frame and pixels.

1. An overview (reproject.overview_camera): the whole source image, lens distortion undone, at
   the network's angular resolution; person isolation (person.PersonExtractor.people) finds every
   person-like surface in it, closest first, up to max_people.
2. For each person, the network's 60 x 50, 57 degree virtual camera turned about the optical
   centre to look at them (reproject.look_at), and for a model trained so, zoomed to their
   distance (reproject.zoom_level); their depth resampled into it, z along its axis, and their
   overview mask carried over to its pixels, with the thin parts (forearms) that fell between
   the coarser overview's pixels added back.
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
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.runtime.encoding import zoom_root_pixels
from depth_pose_ros.runtime.estimator import PoseEstimator
from depth_pose_ros.runtime.person import (
    PersonExtractor,
    PersonFilter,
    grow_by_neighbours,
    label_surfaces,
    off_the_walls,
)
from depth_pose_ros.runtime.reproject import (
    VirtualView,
    look_at,
    overview_camera,
    pixels_to_source,
    points_to_source,
    zoom_level,
    zoom_scale,
)

# A turned camera's direction is rounded to a grid of this many of its pixels (about two
# degrees), so that a person standing still, or a walker for a few frames, reuses the camera
# already built (building one costs about as much as a tenth of the network's batch). The joints
# are turned back through the camera actually used: the rounding only leaves the person up to a
# pixel off the middle of the network's input (training shifts people by up to two).
VIEW_STEP_PIXELS = 2.0
VIEW_CACHE = 32  # turned cameras kept per source camera (the oldest is dropped)
# A person first seen close and cut by the image's top (person.PersonExtractor.people's
# unconfirmed) is kept, and remembered for the next frame, when the network's mean confidence
# over their non-root joints reaches this. Scratch checks with the default model (session 40):
# pillars 1.2-1.9 m away whose width steps 0.06-0.23, the ITOP room's pillar (let through by a
# 3 m reach) 0.07-0.08; people 0.85-1.9 m away, first seen, median 0.66-0.89, 5th
# percentile 0.24 at 0.8-1 m.
FIRST_SEEN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class TurnedView:
    """A virtual camera turned towards a direction, with where its pixels' rays fall in the
    overview (to carry a person's overview mask over)."""

    view: VirtualView
    overview_pixel: np.ndarray  # (H, W) flat index into the overview image (0 where outside)
    on_overview: np.ndarray  # (H, W) bool: the ray lands inside the overview image


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


@dataclass(frozen=True)
class FoundInOverview:
    """What a turned view needs of a person the overview found (built once a frame)."""

    grown: np.ndarray  # (H * W,) their overview mask grown by a pixel: the grids of the
    # overview and of a turned view differ by up to half a pixel
    nearest: float  # their depths there, metres (source z)
    farthest: float
    centre: np.ndarray  # (3,) the mean of their points: where the turned camera looks

    @classmethod
    def of(cls, mask: np.ndarray, points: np.ndarray) -> FoundInOverview:
        """points: (H, W, 3) the overview's, source frame (z is the overview's depth)."""
        mine = points[mask]
        return cls(grow_by_neighbours(mask).ravel(), float(mine[:, 2].min()),
                   float(mine[:, 2].max()), mine.mean(axis=0))


def recover_thin_parts(depth: np.ndarray, carried: np.ndarray, allowed: np.ndarray,
                       max_step: float) -> np.ndarray:
    """A person's mask carried over from the overview (carried), with the surfaces of the
    allowed pixels outside it (4-neighbours at most max_step apart) that touch it and are at
    most a third of its size each.

    A far person's view is zoomed, so its pixels are finer than the overview's: a forearm
    narrower than an overview pixel falls between the overview's samples, is cut from the
    person there, and would be missing from the network's input (bench-people's person at
    3.8 m lost a quarter of their AP so). These are the overview's own rules for the small
    surfaces that join a person (PersonExtractor.people): touching, at most a third of its size,
    within reach in depth (the caller's allowed); a wall met at the person's depth is larger and
    stays out.
    """
    candidates = allowed & ~carried
    touch = grow_by_neighbours(carried)
    if not (candidates & touch).any():
        return carried
    rows, cols = np.nonzero(candidates)  # labelling only their box: this runs per person
    box = np.s_[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    labels = label_surfaces(depth[box], candidates[box], max_step)
    on = labels >= 0
    size = np.bincount(labels[on])
    touching = np.bincount(labels[touch[box] & on], minlength=len(size)) > 0
    join = touching & (size <= np.count_nonzero(carried) // 3)
    recovered = carried.copy()
    recovered[box] |= on & join[np.maximum(labels, 0)]
    return recovered


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
        self.estimator.prepare(max_people)  # one batch of everyone, compiled for its size
        self._overview: VirtualView | None = None  # rebuilt for the next frame
        self._extractor: PersonExtractor | None = None
        self._overview_rays: np.ndarray | None = None  # (H, W, 3) the overview's, z = 1
        self._turned: dict[tuple[int, int], TurnedView] = {}  # by rounded direction

    def overview_for(self, source: PinholeCamera) -> VirtualView:
        if self._overview is None or self._overview.source != source:
            self._overview = VirtualView(source, overview_camera(source, self.estimator.camera),
                                         self.roi)
            self._extractor = PersonExtractor(self._overview.virtual, self.person_filter,
                                              self._overview.observed)
            self._overview_rays = self._overview.virtual.back_project_image(
                np.ones(self._overview.virtual.shape))
            self._turned = {}
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
        limit = limit or self.max_people
        overview = self.overview_for(source)
        depth = overview.sample(raw)
        masks = self._extractor.people(depth, limit)
        if not masks:
            return []
        points = self._overview_rays * depth[..., None]  # the overview is not turned
        found = [FoundInOverview.of(mask, points) for mask in masks]
        views, inputs, zooms = [], [], []
        for k, person in enumerate(found):
            turned = self._towards(person.centre)
            zooms.append(turned.view.virtual.fx / self.estimator.camera.fx)
            seen = turned.view.sample(raw)
            kept = self._person_in(turned, seen, person, found[:k] + found[k + 1:])
            inputs.append(np.where(kept, seen, np.float32(0)))
            views.append(turned.view)
        joints, pixels, confidence = self.estimator.estimate_batch_with_confidence(
            np.stack(inputs))
        pixels = zoom_root_pixels(pixels, np.array(zooms), self.estimator.camera)
        # The turned cameras share the optical centre: turn the joints back, and map the pixels
        # along the same rays.
        joints, pixels = points_to_source(views, joints), pixels_to_source(views, pixels)
        in_view = source.in_view(pixels)
        # The unconfirmed the network is sure of, and the others, closest first, up to the
        # limit (a model without confidence cannot confirm anyone).
        kept = [k for k, unsure in enumerate(self._extractor.unconfirmed) if not unsure or (
            confidence is not None and confidence[k, 1:].mean() >= FIRST_SEEN_CONFIDENCE)][:limit]
        if len(kept) < len(masks):
            self._extractor.remember([masks[k] for k in kept])
        if confidence is None:
            confidence = in_view.astype(np.float32)
        boxes = self._boxes(overview, masks, source)
        return [PersonPose(True, JOINT_NAMES, joints[k], pixels[k], in_view[k], inputs[k],
                           confidence[k], boxes[k], views[k].rotation, found[k].centre)
                for k in kept]

    def _towards(self, point: np.ndarray) -> TurnedView:
        """The network's camera turned to look at `point` (source frame), its direction rounded
        to VIEW_STEP_PIXELS, and zoomed to its distance when the model was trained so
        (reproject.zoom_level): built once, then reused while the person stays in its cell."""
        level = zoom_level(float(np.linalg.norm(point)), self.estimator.zoom_reference)
        camera = self.estimator.camera.zoomed(zoom_scale(level))
        step = VIEW_STEP_PIXELS / camera.fx  # radians: the zoomed camera's pixels
        x, y, z = point
        key = (round(np.arctan2(x, z) / step), round(np.arctan2(y, np.hypot(x, z)) / step), level)
        turned = self._turned.get(key)
        if turned is None:
            yaw, pitch = key[0] * step, key[1] * step
            view = VirtualView(self._overview.source, camera, self.roi,
                               look_at(np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch),
                                                 np.cos(yaw) * np.cos(pitch)])))
            overview = self._overview.virtual
            col, row = np.rint(overview.project(view.rays)).transpose(2, 0, 1)
            inside = (col >= 0) & (col < overview.width) & (row >= 0) & \
                (row < overview.height) & (view.rays[..., 2] > 0)
            pixel = np.where(inside, row * overview.width + col, 0).astype(np.intp)
            turned = TurnedView(view, pixel, inside)
            if len(self._turned) >= VIEW_CACHE:
                del self._turned[next(iter(self._turned))]  # the oldest
            self._turned[key] = turned
        return turned

    def _person_in(self, turned: TurnedView, depth: np.ndarray, person: FoundInOverview,
                   others: list[FoundInOverview]) -> np.ndarray:
        """The person's pixels in a turned view (depth): their overview mask carried over
        (_carried), and what the overview's coarser pixels missed of them (recover_thin_parts)
        but the others' carried masks hold."""
        flt = self.person_filter
        rays = turned.view.rays
        source_z = rays[..., 2] * depth  # what the overview measured: z along the source's axis
        usable = (depth >= flt.min_depth) & (depth <= flt.max_depth) & turned.on_overview
        floor = self._extractor.floor if flt.remove_floor else None
        walls = self._extractor.walls  # empty unless flt.remove_walls
        if floor is not None or walls:  # the overview's planes; a turned pixel's point is its
            points = rays * depth[..., None]  # ray times z
            if floor is not None:
                usable &= points @ floor[0] + floor[1] > flt.floor_tolerance
            if walls:
                usable &= off_the_walls(points, walls, flt)
        theirs = np.zeros_like(usable)
        for other in others:
            theirs |= self._carried(turned, usable, source_z, other)
        mean = person.centre[2]
        within_reach = usable & ~theirs & (source_z >= mean - flt.max_reach) & \
            (source_z <= mean + flt.max_behind)
        return recover_thin_parts(depth, self._carried(turned, usable, source_z, person),
                                  within_reach, flt.max_depth_step)

    def _carried(self, turned: TurnedView, usable: np.ndarray, source_z: np.ndarray,
                 person: FoundInOverview) -> np.ndarray:
        """An overview mask carried over to a turned view: the usable pixels whose ray meets
        the mask at a depth (source z) within the span the mask has there."""
        step = self.person_filter.max_depth_step
        return usable & person.grown[turned.overview_pixel] & \
            (source_z >= person.nearest - step) & (source_z <= person.farthest + step)

    @staticmethod
    def _boxes(overview: VirtualView, masks: list[np.ndarray], source: PinholeCamera):
        """Each overview mask's bounding box in source pixels, clipped to the image (the
        corners of all of them mapped in one call)."""
        corners = []
        for mask in masks:
            rows, cols = np.nonzero(mask)
            r0, r1, c0, c1 = rows.min() - 0.5, rows.max() + 0.5, cols.min() - 0.5, cols.max() + 0.5
            corners.append([[c0, r0], [c1, r1], [c0, r1], [c1, r0]])
        corners = overview.to_source_pixels(np.array(corners))  # (people, 4, 2)
        low = np.floor(corners.min(axis=1) + 0.5)
        high = np.ceil(corners.max(axis=1) + 0.5)
        size = np.array([source.width, source.height])
        low, high = np.clip(low, 0, size).astype(int), np.clip(high, 0, size).astype(int)
        return [(int(u0), int(v0), int(u1 - u0), int(v1 - v0))
                for (u0, v0), (u1, v1) in zip(low, high)]
