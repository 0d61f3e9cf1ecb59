"""The network's input and output encoding (paper §4), shared by training, evaluation and runtime.

numpy only. Depth comes in metres (0 = no return) in the 60 x 50 virtual camera. Two input
encodings:
  "paper8bit": the paper's 8-bit greyscale: DEPTH_NEAR..DEPTH_FAR mapped to 1..255 (steps of
               about 1.6 cm), background 0, then divided by 255.
  "float":     full precision: depth / DEPTH_FAR, background 0.
Either way the mean training image is subtracted. Targets (the 33 values of joints.py) are
min-max normalised per output to 0..1 with the training set's ranges. Mirror averaging (an
estimate and its mirror image's, averaged) lives here too: the runtime does it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import (
    ERROR_SCALES,
    JOINT_NAMES,
    NUM_TARGETS,
    error_confidence,
    from_targets,
    to_targets,
)

PREPROCESSING_VERSION = 1
DEPTH_NEAR, DEPTH_FAR = 0.5, 4.5  # metres, the range of the 8-bit encoding
INPUT_MODES = ("float", "paper8bit")

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


def zoom_root_pixels(pixels: np.ndarray, zoom: np.ndarray, camera: PinholeCamera) -> np.ndarray:
    """Pixels (N, 7, 2) as Preprocessor.joints gives them for frames whose cameras are camera
    zoomed by zoom (N,): the root's pixel, its 3D estimate projected by camera, moved to where
    the zoomed camera sees it (the other joints' pixels are the network's, already there)."""
    centre = np.array([camera.cx, camera.cy], np.float32)
    pixels = pixels.copy()
    pixels[:, 0] = centre + np.asarray(zoom, np.float32)[:, None] * (pixels[:, 0] - centre)
    return pixels


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
