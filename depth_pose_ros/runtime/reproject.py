"""Any depth camera -> a virtual camera: the network's 60 x 50 view, or a wide overview.

Both cameras share the optical centre. The virtual camera may be turned (`rotation`) to look at
one person anywhere in the source's field of view. The renderer that made the training data
samples the scene along the ray through each virtual pixel's centre, so the reprojection does
the same: it reads the source pixel that ray hits (nearest neighbour), through the source's lens
distortion when its CameraInfo has one, and recomputes z along the turned camera's axis.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_metres

# A model trained for it (model.json "zoom_reference_m") sees each person through a camera
# zoomed to their distance d, its focal length d / reference times the network camera's: a
# person covers the same pixels at any distance, as they would at the reference distance, so
# far people keep the detail near ones have. Zoom comes in steps of ZOOM_STEP (turned cameras
# are built once and reused): up to 2.3x in (a person 5 m away, for a 2.2 m reference), and at
# most 0.6x out (near people, whom the sensor shows only in part, keep some of their detail).
ZOOM_STEP = 1.05
ZOOM_LEVELS = (-10, 17)

# The 8 neighbours of a pixel, as (column, row) offsets.
_NEIGHBOURS = np.array([(du, dv) for dv in (-1, 0, 1) for du in (-1, 0, 1) if (du, dv) != (0, 0)])


class VirtualView:
    """Samples source depth images (any size and intrinsics) on the virtual camera's pixel grid.

    Built once per source camera (and region of interest); sampling is then a gather of 3000
    values. A source pixel without a return inside a surface (5 or more of the 8 pixels around it,
    a third of a virtual pixel away, have one) takes their median: real sensors drop isolated
    pixels that the training renders never lack.
    """

    def __init__(self, source: PinholeCamera, virtual: PinholeCamera | None = None,
                 roi: tuple[int, int, int, int] | None = None, rotation: np.ndarray | None = None):
        """rotation: (3, 3), the virtual camera's axes as columns in the source's optical frame
        (a point p in the virtual frame is rotation @ p in the source's); None: the source's."""
        self.source = source
        self.virtual = virtual or PinholeCamera.virtual()
        self.rotation = None if rotation is None else np.asarray(rotation, dtype=np.float64)
        rays = _pixel_rays(self.virtual)  # (50, 60, 3), z = 1 in the virtual camera
        if self.rotation is not None:
            rays = rays @ self.rotation.T
        self.rays = rays  # each virtual pixel's ray in the source frame
        ahead = rays[..., 2] > 1e-6
        if self.source.distorted:  # a lens model holds only inside its own field of view
            ahead &= np.hypot(rays[..., 0], rays[..., 1]) < 3.0 * rays[..., 2]
        # z in the virtual frame per unit of source z along each ray (1 when not turned)
        self._z_scale = None if self.rotation is None else \
            np.where(ahead, 1.0 / np.where(ahead, rays[..., 2], 1.0), 0.0).astype(np.float32)
        src_u, src_v = self._rays_to_source_pixels(rays).transpose(2, 0, 1)
        # Region of interest in source pixels (x_offset, y_offset, width, height); 0 size = all.
        x0, y0, w, h = roi or (0, 0, 0, 0)
        x1 = x0 + w if w > 0 else source.width
        y1 = y0 + h if h > 0 else source.height
        self._bounds = (max(x0, 0), min(x1, source.width), max(y0, 0), min(y1, source.height))
        # Hole filling needs several source pixels per virtual pixel; the stencil spans a third.
        self._spacing = max(1, round(source.fx / self.virtual.fx / 3.0))
        self._fill_holes = source.fx >= 3.0 * self.virtual.fx
        # (rays that miss the source's front half have no pixel: -1, outside)
        cols, rows = np.where(ahead, np.rint(src_u), -1.0), np.where(ahead, np.rint(src_v), -1.0)
        # Rays that leave the source image (or region) see nothing.
        self.observed = self._inside(cols, rows) & ahead  # (50, 60): pixels that see the image
        self._rows = np.clip(rows, 0, source.height - 1).astype(np.intp)
        self._cols = np.clip(cols, 0, source.width - 1).astype(np.intp)

    def _inside(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        c0, c1, r0, r1 = self._bounds
        return (cols >= c0) & (cols < c1) & (rows >= r0) & (rows < r1)

    def _rays_to_source_pixels(self, rays: np.ndarray) -> np.ndarray:
        if self.rotation is None and not self.source.distorted:  # a change of scale only
            return np.stack([self.source.cx + self.source.fx * rays[..., 0],
                             self.source.cy + self.source.fy * rays[..., 1]], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.source.pixels_of_rays(rays[..., :2] / rays[..., 2:3])

    def to_source_pixels(self, virtual_pixels: np.ndarray) -> np.ndarray:
        """(..., 2) pixel coordinates in the virtual image -> the same rays' source pixels."""
        return pixels_to_source([self], np.asarray(virtual_pixels)[None])[0]

    def to_source_points(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) points in the virtual camera's frame -> the source's optical frame."""
        return points_to_source([self], np.asarray(points)[None])[0]

    def sample(self, raw: np.ndarray) -> np.ndarray:
        """A source image (H, W) in its raw dtype (see depth_image) -> (50, 60) float32 metres."""
        if raw.shape != self.source.shape:
            raise ValueError(f"image is {raw.shape[1]} x {raw.shape[0]}, its camera "
                             f"{self.source.width} x {self.source.height}")
        depth = to_metres(raw[self._rows, self._cols])  # (50, 60): the centre samples
        depth[~self.observed] = 0.0
        missing = np.flatnonzero((depth == 0) & self.observed) if self._fill_holes else []
        if len(missing):  # only where the centre has no return: its 8 neighbours a stencil away
            flat = depth.reshape(-1)
            step = self._spacing * _NEIGHBOURS  # (8, 2) column, row offsets
            rows = self._rows.reshape(-1)[missing][None] + step[:, 1:2]
            cols = self._cols.reshape(-1)[missing][None] + step[:, 0:1]
            inside = self._inside(cols, rows)
            candidates = to_metres(raw[np.clip(rows, 0, raw.shape[0] - 1),
                                       np.clip(cols, 0, raw.shape[1] - 1)])  # (8, M)
            candidates[~inside] = 0.0
            valid = np.count_nonzero(candidates > 0, axis=0)
            # A hole inside a surface (most neighbours valid) takes their median; an object's
            # edge or empty space (few valid) stays empty, so silhouettes do not grow.
            candidates[candidates == 0] = np.inf
            median = np.take_along_axis(np.sort(candidates, axis=0), (valid // 2)[None], 0)[0]
            flat[missing] = np.where(valid >= 5, median, 0.0)
        if self._z_scale is not None:
            depth *= self._z_scale
        return depth


def zoom_level(distance: float, reference: float | None) -> int:
    """The zoom step for a person `distance` metres away (0 without a reference: no zoom)."""
    if not reference:
        return 0
    level = round(math.log(distance / reference) / math.log(ZOOM_STEP))
    return min(max(level, ZOOM_LEVELS[0]), ZOOM_LEVELS[1])  # np.clip: 70 µs on a scalar


def zoom_scale(level):
    """A zoom step's (or an array of steps') factor on the focal length."""
    return ZOOM_STEP ** np.asarray(level, dtype=np.float64)


def points_to_source(views: list[VirtualView], points: np.ndarray) -> np.ndarray:
    """Points (N, ..., 3), each in one of N virtual cameras' frames -> the source's optical
    frame, all N in one pass (the node's people)."""
    return np.einsum("nij,n...j->n...i", _rotations(views), np.asarray(points, np.float64))


def pixels_to_source(views: list[VirtualView], pixels: np.ndarray) -> np.ndarray:
    """Pixels (N, ..., 2), each in one of N virtual cameras' images -> the same rays' source
    pixels, all N in one pass. The views share one source; their virtual cameras may differ
    in zoom."""
    xy = np.stack([view.virtual.rays_of_pixels(p) for view, p in zip(views, pixels)])
    rays = points_to_source(views, np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return views[0].source.pixels_of_rays(rays[..., :2] / rays[..., 2:3])


def _rotations(views: list[VirtualView]) -> np.ndarray:
    return np.stack([np.eye(3) if v.rotation is None else v.rotation for v in views])


@lru_cache(maxsize=8)
def _pixel_rays(camera: PinholeCamera) -> np.ndarray:
    """(H, W, 3) the rays through a camera's pixel centres, z = 1 (read-only: shared)."""
    v, u = np.indices(camera.shape, dtype=np.float64)
    xy = camera.rays_of_pixels(np.stack([u, v], axis=-1))
    rays = np.concatenate([xy, np.ones(camera.shape + (1,))], axis=-1)
    rays.flags.writeable = False
    return rays


def look_at(point: np.ndarray) -> np.ndarray:
    """The rotation (virtual axes as columns, source frame) of a camera turned about the optical
    centre to look at `point`, its x axis kept level (perpendicular to the source's y): a yaw
    then a pitch, no roll, so an upright person stays upright."""
    fx, fy, fz = np.asarray(point, dtype=np.float64) / np.linalg.norm(point)
    level = np.hypot(fx, fz)  # right = (0, 1, 0) x forward, normalised; down = forward x right
    rx, rz = fz / level, -fx / level
    return np.array([[rx, fy * rz, fx],
                     [0.0, fz * rx - fx * rz, fy],
                     [rz, -fy * rx, fz]])


def overview_camera(source: PinholeCamera, virtual: PinholeCamera) -> PinholeCamera:
    """An undistorted pinhole camera that sees all of the source image at the virtual camera's
    angular resolution (its focal length): where people are looked for."""
    h, w = source.shape
    border = np.concatenate([np.stack([np.linspace(-0.5, w - 0.5, 64), np.full(64, y)], -1)
                             for y in (-0.5, h - 0.5)] +
                            [np.stack([np.full(64, x), np.linspace(-0.5, h - 0.5, 64)], -1)
                             for x in (-0.5, w - 0.5)])
    xy = source.rays_of_pixels(border)
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    f = virtual.fx
    width, height = int(np.ceil((x1 - x0) * f)), int(np.ceil((y1 - y0) * f))
    return PinholeCamera(width, height, f, f, -x0 * f - 0.5, -y0 * f - 0.5)
