"""Preprocessing (paper §4 and §6), one module used identically by training, evaluation and runtime.

numpy only. Depth comes in metres (0 = no return) in the 60 x 50 virtual camera. Two input
encodings:
  "paper8bit": the paper's 8-bit greyscale: DEPTH_NEAR..DEPTH_FAR mapped to 1..255 (steps of
               about 1.6 cm), background 0, then divided by 255.
  "float":     full precision: depth / DEPTH_FAR, background 0.
Either way the mean training image is subtracted. Targets (the 33 values of joints.py) are
min-max normalised per output to 0..1 with the training set's ranges.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import (ERROR_SCALES, JOINT_NAMES, NUM_TARGETS, error_confidence,
                                   from_targets, to_targets)
from depth_pose_ros.person import FROM_NEIGHBOURS, grow_by_neighbours

PREPROCESSING_VERSION = 1
DEPTH_NEAR, DEPTH_FAR = 0.5, 4.5  # metres, the range of the 8-bit encoding
INPUT_MODES = ("float", "paper8bit")

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


def encode_depth(depth_m: np.ndarray, mode: str, out: np.ndarray | None = None) -> np.ndarray:
    """Depth in metres -> the network's raw input values in 0..1 (before the mean is subtracted).

    Anything but a positive depth (0, negative, NaN) encodes as no return. out: an optional
    float32 array of the same shape to write into (the runtime's bound input buffer).
    """
    depth_m = np.asarray(depth_m, dtype=np.float32)
    if mode == "float":  # two in-place ufuncs: this runs for every frame the node sees
        out = np.fmax(depth_m, np.float32(0.0), out=out)  # fmax maps NaN and negatives to 0
        return np.divide(out, np.float32(DEPTH_FAR), out=out)
    if mode == "paper8bit":
        level = np.clip(np.round((depth_m - DEPTH_NEAR) / (DEPTH_FAR - DEPTH_NEAR) * 254) + 1, 1, 255)
        encoded = np.where(depth_m > 0, level / 255.0, 0.0).astype(np.float32)
        if out is None:
            return encoded
        out[...] = encoded
        return out
    raise ValueError(f"unknown input mode {mode!r}; expected one of {INPUT_MODES}")


def shift_images(depth_m, joints3d, du, dv, fill: str, camera: PinholeCamera | None = None):
    """Move each frame by whole pixels (du[i] columns right, dv[i] rows down).

    fill "edge" repeats the edge pixels into the uncovered rows/columns, "zero" leaves no return.
    Ground truth moves with the image: pixels by (du, dv), and each joint to the point that
    projects there at its own depth, so the 3D and 2D truth stay consistent with the picture.
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
    pixels = camera.project(joints3d) + np.stack([du, dv], -1)[:, None].astype(np.float32)
    moved = camera.back_project(pixels[..., 0], pixels[..., 1], joints3d[..., 2])
    return out, moved.astype(np.float32), pixels.astype(np.float32)


def shift_frames(depth_m, joints3d, rng, camera: PinholeCamera | None = None):
    """The augmented evaluation set (§6): each frame moved one row and one column in a random
    diagonal direction, the uncovered row and column filled with their edge neighbours."""
    n = len(depth_m)
    return shift_images(depth_m, joints3d, rng.choice([-1, 1], n), rng.choice([-1, 1], n),
                        "edge", camera)


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


# The person's right and left swap places in a mirror image.
_MIRRORED_JOINTS = [JOINT_NAMES.index(n.replace("right", "@").replace("left", "right")
                                      .replace("@", "left")) for n in JOINT_NAMES]


def mirror_joints(joints3d, pixels, camera: PinholeCamera | None = None):
    """(N, 7, 3) joints and (N, 7, 2) pixels as seen in the left-right mirror image: x -> -x,
    u -> width - 1 - u, right <-> left. Exact for a camera whose principal point is on the
    image's vertical centre line (the virtual camera's)."""
    camera = camera or PinholeCamera.virtual()
    assert camera.cx == (camera.width - 1) / 2, "mirroring needs a centred principal point"
    joints = joints3d[:, _MIRRORED_JOINTS] * np.array([-1.0, 1.0, 1.0], np.float32)
    pixels = pixels[:, _MIRRORED_JOINTS] * np.array([-1.0, 1.0], np.float32)
    pixels[..., 0] += camera.width - 1
    return joints.astype(np.float32), pixels.astype(np.float32)


def mirror(depth_m, joints3d, camera: PinholeCamera | None = None):
    """Left-right mirror images and their truth. Returns (depth, joints3d, pixels)."""
    camera = camera or PinholeCamera.virtual()
    joints, pixels = mirror_joints(joints3d, camera.project(joints3d), camera)
    return depth_m[:, :, ::-1].copy(), joints, pixels


def mean_with_mirrored(joints3d, pixels, camera: PinholeCamera | None = None, confidence=None):
    """Estimates of N frames followed by estimates of their N mirror images ((2N, 7, 3) joints,
    (2N, 7, 2) pixels, optionally (2N, 7) confidences) -> for each frame, the mean of its
    estimate and its mirror image's estimate mirrored back: ((N, 7, 3), (N, 7, 2), (N, 7) or
    None). Two views of the same frame err partly independently (the fifth shipped DNN33's
    test set: AP@10cm +0.021, `depth-pose evaluate` with and without --one-pass)."""
    n = len(joints3d) // 2
    back3d, backpx = mirror_joints(joints3d[n:], pixels[n:], camera)
    mean_confidence = None if confidence is None else (
        confidence[:n] + confidence[n:][:, _MIRRORED_JOINTS]) / 2
    return (joints3d[:n] + back3d) / 2, (pixels[:n] + backpx) / 2, mean_confidence


def average_with_mirror_images(predict, depth_m, camera: PinholeCamera | None = None):
    """predict ((N, H, W) metres -> (joints3d, pixels, confidence or None)) run once on the
    frames and their mirror images together, each frame's two estimates averaged
    (mean_with_mirrored). Returns (joints3d, pixels, confidence or None)."""
    joints3d, pixels, confidence = predict(np.concatenate([depth_m, depth_m[:, :, ::-1]]))
    return mean_with_mirrored(joints3d, pixels, camera, confidence)


def training_batch(pre: "Preprocessor", depth_m, joints3d, pixels, sigma, augment: bool, rng,
                   sensor: bool = False, share: tuple[int, int] = (0, 1)):
    """Training frames -> (network inputs (N, 1, H, W), normalised targets (N, 33)).

    Noise of sigma (scalar or per frame) on the body's pixels. With augment (beyond the paper),
    half the frames are mirrored and all shifted by -2..2 pixels, the truth following. With
    sensor, a random half of the frames gets add_sensor_artifacts.
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
            depth_m, joints3d, *rng.integers(-2, 3, (2, size))[:, mine], "zero")
    noise = rng.standard_normal((size,) + depth_m.shape[1:], dtype=np.float32)[mine]
    if sensor:
        rough = (rng.random(size) < 0.5)[mine]
        depth_m[rough] = add_sensor_artifacts(depth_m[rough], rng)
    targets = pre.normalise(to_targets(joints3d, pixels))
    return pre.inputs(add_depth_noise(depth_m, sigma, rng, noise)), targets


@dataclass
class Preprocessor:
    """Everything needed to turn depth into network input and network output into joints."""

    mode: str
    mean_image: np.ndarray  # (H, W) float32, the mean encoded training image
    target_min: np.ndarray  # (33,)
    target_max: np.ndarray  # (33,)

    @classmethod
    def fit(cls, depth_m: np.ndarray, joints3d: np.ndarray, pixels: np.ndarray,
            mode: str = "float") -> Preprocessor:
        """Mean image and target ranges from (a sample of) the training frames."""
        mean = np.zeros(depth_m.shape[1:], dtype=np.float64)
        for start in range(0, len(depth_m), 4096):
            mean += encode_depth(depth_m[start:start + 4096], mode).sum(axis=0)
        targets = to_targets(joints3d, pixels)
        return cls(mode, (mean / len(depth_m)).astype(np.float32),
                   targets.min(axis=0), targets.max(axis=0))

    def inputs(self, depth_m: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(N, H, W) depth in metres -> (N, 1, H, W) float32 network input, written into out
        ((N, 1, H, W) float32) when given."""
        encoded = encode_depth(depth_m, self.mode, None if out is None else out[:, 0])
        encoded -= self.mean_image
        return encoded[:, None]

    def normalise(self, targets: np.ndarray) -> np.ndarray:
        return ((targets - self.target_min) / (self.target_max - self.target_min)).astype(np.float32)

    def denormalise(self, outputs: np.ndarray) -> np.ndarray:
        """Network outputs (N, 33 or more) -> the (N, 33) targets in metres and pixels."""
        return (outputs[:, :NUM_TARGETS] * (self.target_max - self.target_min)
                + self.target_min).astype(np.float32)

    @staticmethod
    def confidence(outputs: np.ndarray) -> np.ndarray | None:
        """Network outputs -> (N, 7) probability that each joint is within 10 cm (0..1), from
        the error scales; None for a network without them."""
        if outputs.shape[1] < ERROR_SCALES.stop:
            return None
        return error_confidence(outputs[:, ERROR_SCALES])

    def joints(self, outputs: np.ndarray, camera: PinholeCamera | None = None):
        """Network outputs (N, 33) -> joints3d (N, 7, 3) in metres and pixels (N, 7, 2).

        The root's pixel comes from projecting its 3D estimate (the target has no root pixel).
        """
        camera = camera or PinholeCamera.virtual()
        joints3d, other_pixels = from_targets(self.denormalise(outputs))
        root_pixel = camera.project(joints3d[:, :1].astype(np.float64)).astype(np.float32)
        return joints3d, np.concatenate([root_pixel, other_pixels], axis=1)

    def to_dict(self) -> dict:
        return {"version": PREPROCESSING_VERSION, "mode": self.mode,
                "depth_near": DEPTH_NEAR, "depth_far": DEPTH_FAR,
                "mean_image": np.round(self.mean_image, 6).tolist(),
                "target_min": self.target_min.tolist(), "target_max": self.target_max.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        if d.get("version") != PREPROCESSING_VERSION:
            raise ValueError(f"preprocessing version {d.get('version')} is not "
                             f"{PREPROCESSING_VERSION}: re-export the model with this code")
        return cls(d["mode"], np.asarray(d["mean_image"], dtype=np.float32),
                   np.asarray(d["target_min"], dtype=np.float32),
                   np.asarray(d["target_max"], dtype=np.float32))
