"""Training and evaluation data (paper §4 and §6, and beyond): depth noise, shifts, mirror
images, sensor artifacts, and the training batch. numpy only; depth in metres.
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import to_targets
from depth_pose_ros.runtime.encoding import Preprocessor, mirror_joints
from depth_pose_ros.runtime.person import FROM_NEIGHBOURS, grow_by_neighbours

TRAIN_NOISE_SIGMAS = (0.0125, 0.025)  # m: a random half of the training frames each (§4)
TEST_NOISE_SIGMA = 0.01875  # m (§4)
AUGMENTED_NOISE_SIGMA = 0.00625  # m, the augmented evaluation set (§6)


def add_depth_noise(depth_m: np.ndarray, sigma, rng: np.random.Generator,
                    noise: np.ndarray | None = None) -> np.ndarray:
    """Gaussian noise on the body's pixels only (background stays 0). sigma: scalar or (N,).
    noise: standard normal draws of depth_m's shape made elsewhere (else drawn from rng)."""
    sigma = np.asarray(sigma, dtype=np.float32).reshape((-1,) + (1,) * (depth_m.ndim - 1))
    if noise is None:
        noise = rng.standard_normal(depth_m.shape, dtype=np.float32)
    body = depth_m > 0
    return np.where(body, np.maximum(depth_m + noise * sigma, 1e-3), 0.0).astype(np.float32)


def shift_images(depth_m, joints3d, du, dv, fill: str, camera: PinholeCamera | None = None,
                 zoom=None):
    """Move each frame by whole pixels (du[i] columns right, dv[i] rows down).

    fill "edge" repeats the edge pixels into the uncovered rows/columns, "zero" leaves no return.
    Ground truth moves with the image: pixels by (du, dv), and each joint to the point that
    projects there at its own depth, so the 3D and 2D truth stay consistent with the picture.
    zoom: (N,) each frame's camera is camera zoomed by this (frame label "zoom"); None: 1.
    Returns (depth, joints3d, pixels).
    """
    camera = camera or PinholeCamera.virtual()
    du, dv = np.asarray(du, int), np.asarray(dv, int)
    pad = int(max(np.abs(du).max(initial=0), np.abs(dv).max(initial=0)))
    h, w = depth_m.shape[1:]
    mode = {"edge": "edge", "zero": "constant"}[fill]
    padded = np.pad(depth_m, ((0, 0), (pad, pad), (pad, pad)), mode=mode)
    out = np.empty_like(depth_m)
    for sx, sy in set(zip(du.tolist(), dv.tolist())):
        pick = (du == sx) & (dv == sy)
        out[pick] = padded[pick, pad - sy:pad - sy + h, pad - sx:pad - sx + w]
    # each frame's focal lengths; the zoomed cameras share the principal point
    focal = np.array([camera.fx, camera.fy]) * (1.0 if zoom is None else
                                                np.asarray(zoom, np.float64)[:, None, None])
    centre = np.array([camera.cx, camera.cy])
    z = joints3d[..., 2:3]
    pixels = centre + focal * joints3d[..., :2] / z + \
        np.stack([du, dv], -1)[:, None].astype(np.float32)
    moved = np.concatenate([(pixels - centre) / focal * z, z], axis=-1)
    return out, moved.astype(np.float32), pixels.astype(np.float32)


def shift_frames(depth_m, joints3d, rng, camera: PinholeCamera | None = None, zoom=None):
    """The augmented evaluation set (§6): each frame moved one row and one column in a random
    diagonal direction, the uncovered row and column filled with their edge neighbours."""
    n = len(depth_m)
    return shift_images(depth_m, joints3d, rng.choice([-1, 1], n), rng.choice([-1, 1], n),
                        "edge", camera, zoom)


SENSOR_EDGE_LOSS = 0.2  # share of the silhouette's pixels a real sensor loses
SENSOR_EDGE_GAIN = 0.1  # share of the background pixels along the outline it fills
SENSOR_HOLE_SEEDS = 0.006  # per body pixel: the centre of a blob of missing pixels


def add_sensor_artifacts(depth_m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a real sensor and the node's person isolation leave of a body that the renderer
    draws perfectly (beyond the paper). A ragged outline: silhouette pixels lost, background
    pixels next to the body filled with their farthest body neighbour's depth (the mixed
    pixels at a depth jump); and blobs of missing pixels of radius 1 or 2 on the body (dark or
    shiny clothing, hair), about one per 170 body pixels. The truth is unchanged.
    (N, H, W) metres -> a new array."""
    body = depth_m > 0
    farthest_neighbour = np.zeros_like(depth_m)
    for to, source in FROM_NEIGHBOURS:
        np.maximum(farthest_neighbour[to], depth_m[source], out=farthest_neighbour[to])
    # One uniform draw per pixel serves all three choices: they concern disjoint pixels or
    # disjoint ranges of the draw.
    draw = rng.random(depth_m.shape, dtype=np.float32)
    out = np.where(~body & (farthest_neighbour > 0) & (draw < SENSOR_EDGE_GAIN),
                   farthest_neighbour, depth_m)
    lost = body & grow_by_neighbours(~body) & (draw < SENSOR_EDGE_LOSS)
    seeds = body & (draw > 1 - SENSOR_HOLE_SEEDS)
    wide_seeds = body & (draw > 1 - SENSOR_HOLE_SEEDS / 2)
    holes = grow_by_neighbours(seeds) | grow_by_neighbours(grow_by_neighbours(wide_seeds))
    out[lost | holes] = 0
    return out.astype(np.float32, copy=False)


def mirror(depth_m, joints3d, camera: PinholeCamera | None = None):
    """Left-right mirror images and their truth. Returns (depth, joints3d, pixels)."""
    camera = camera or PinholeCamera.virtual()
    joints, pixels = mirror_joints(joints3d, camera.project(joints3d), camera)
    return depth_m[:, :, ::-1].copy(), joints, pixels



def training_batch(pre: "Preprocessor", depth_m, joints3d, pixels, sigma, augment: bool, rng,
                   sensor: bool = False, share: tuple[int, int] = (0, 1), zoom=None):
    """Training frames -> (network inputs (N, 1, H, W), normalised targets (N, 33)).

    Noise of sigma (scalar or per frame) on the body's pixels. With augment (beyond the paper),
    half the frames are mirrored and all shifted by -2..2 pixels, the truth following. With
    sensor, a random half of the frames gets add_sensor_artifacts. zoom: (N,) each frame's
    camera zoom (the frame label), for the shifts; None: the network's camera.
    share (rank, ranks): these frames are rank's share, every ranks-th frame from rank on, of a
    global batch of N * ranks; the mirror, shift and noise draws are the global batch's, so that
    data-parallel ranks train on exactly the batch one process would (add_sensor_artifacts'
    own draws are the one exception).
    depth_m is modified in place: pass a fresh array.
    """
    rank, ranks = share
    mine = slice(rank, len(depth_m) * ranks, ranks)
    size = len(depth_m) * ranks
    if augment:
        joints3d = np.array(joints3d)
        flip = (rng.random(size) < 0.5)[mine]
        depth_m[flip], joints3d[flip], _ = mirror(depth_m[flip], joints3d[flip])
        depth_m, joints3d, pixels = shift_images(
            depth_m, joints3d, *rng.integers(-2, 3, (2, size))[:, mine], "zero", zoom=zoom)
    noise = rng.standard_normal((size,) + depth_m.shape[1:], dtype=np.float32)[mine]
    if sensor:
        rough = (rng.random(size) < 0.5)[mine]
        depth_m[rough] = add_sensor_artifacts(depth_m[rough], rng)
    targets = pre.normalise(to_targets(joints3d, pixels))
    return pre.inputs(add_depth_noise(depth_m, sigma, rng, noise)), targets
