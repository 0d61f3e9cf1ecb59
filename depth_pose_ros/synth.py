"""The synthetic dataset (paper §3): posed bodies placed in front of the virtual camera, rendered.

A dataset is generated in fixed-size chunks, each from its own seed derived from (seed, chunk
index), so the files depend only on --seed and --count, never on the number of workers.
Files (see write_dataset): depth.npy (uint16 mm), joints3d.npy, pixels.npy, meta.json.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from depth_pose_ros.body import Body, build_bodies, sample_shapes
from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.joints import HANDS, JOINT_NAMES
from depth_pose_ros.placement import body_to_camera, keep_in_view_points, place_in_view
from depth_pose_ros.postures import FAMILIES
from depth_pose_ros.render import render_depth
from depth_pose_ros.sensors import SENSORS
from depth_pose_ros.wide import OCCLUDERS, SOURCE_SCALE, WideConfig, generate_wide

GENERATOR_VERSION = 1  # the paper's world; its files must not change
WIDE_GENERATOR_VERSION = 1
# Per-frame labels of the wide world (frame_labels.npz), for evaluation by bins.
FRAME_LABELS = {"family": np.uint8, "sensor": np.uint8, "occluder": np.uint8,
                "yaw_deg": np.float32}
CHUNK = 512  # frames per chunk; part of the seed derivation, so changing it changes the data


@dataclass(frozen=True)
class SceneConfig:
    """Ranges of the random scene. Angles in degrees, distances in metres."""

    height_range: tuple[float, float] = (1.5, 2.0)
    root_distance: tuple[float, float] = (1.9, 3.6)  # z of the mid-hip in the camera frame
    yaw_range: tuple[float, float] = (-25.0, 25.0)  # 0 = facing the camera
    camera_pitch: tuple[float, float] = (-8.0, 8.0)  # small mounting tilt of the camera
    camera_roll: tuple[float, float] = (-4.0, 4.0)
    edge_margin_px: float = 0.5  # the figure but the arms stays this far inside the image


@dataclass(frozen=True)
class Scenes:
    """N rendered frames with ground truth."""

    depth: np.ndarray  # (N, H, W) float32 metres, 0 = no return
    joints3d: np.ndarray  # (N, 7, 3) float32 camera frame
    pixels: np.ndarray  # (N, 7, 2) float32 (u, v) in the virtual image
    labels: np.ndarray | None  # (N, H, W) uint8 part labels, when asked for


def sample_bodies_in_view(rng: np.random.Generator, n: int, camera: PinholeCamera,
                          config: SceneConfig = SceneConfig()) -> Body:
    """N posed bodies in the camera frame, each with all but its arms inside the image."""
    accepted: list[Body] = []
    remaining = n
    while remaining > 0:
        batch = remaining + remaining // 4 + 8
        bodies = build_bodies(rng, sample_shapes(rng, batch, config.height_range))
        rotation = body_to_camera(rng, rng.uniform(*config.yaw_range, batch), config.camera_pitch,
                                  config.camera_roll)
        oriented = bodies.transformed(rotation, np.zeros((batch, 3)))
        z = rng.uniform(*config.root_distance, batch)
        root, ok = place_in_view(rng, camera, keep_in_view_points(oriented), z, config.edge_margin_px)
        keep = np.flatnonzero(ok)[:remaining]
        placed = oriented.transformed(np.broadcast_to(np.eye(3), (batch, 3, 3)), root)
        accepted.append(placed.take(keep))
        remaining -= keep.size
    return Body.concatenate(accepted)


def generate(rng: np.random.Generator, n: int, camera: PinholeCamera | None = None,
             config: SceneConfig = SceneConfig(), with_labels: bool = False) -> Scenes:
    """Sample, place and render n frames."""
    camera = camera or PinholeCamera.virtual()
    bodies = sample_bodies_in_view(rng, n, camera, config)
    rendered = render_depth(camera, bodies, with_labels=with_labels)
    depth, labels = rendered if with_labels else (rendered, None)
    joints3d = bodies.joints.astype(np.float32)
    pixels = camera.project(bodies.joints).astype(np.float32)
    return Scenes(depth, joints3d, pixels, labels)


# --- a person moving in a room, for the live demo and the node's tests ---------------------------

# A Kinect-like 640 x 480 depth camera; its field of view covers the virtual camera's.
DEMO_CAMERA = PinholeCamera(640, 480, 525.0, 525.0, 319.5, 239.5)
_LEVEL = SceneConfig(camera_pitch=(0.0, 0.0), camera_roll=(0.0, 0.0), root_distance=(2.3, 3.0))


@dataclass(frozen=True)
class Sequence:
    """A looping motion: one person, keyframe poses blended linearly, rendered with a room."""

    depth: np.ndarray  # (N, H, W) float32 metres, 0 = no return
    joints3d: np.ndarray  # (N, 7, 3) camera frame
    pixels: np.ndarray  # (N, 7, 2) in the sequence's camera


def motion_bodies(rng: np.random.Generator, keyframes: int, steps: int,
                  camera: PinholeCamera = PinholeCamera.virtual(),
                  config: SceneConfig = _LEVEL) -> Body:
    """keyframes random poses of one person standing still, each blended into the next over
    steps frames (keyframes * steps bodies, looping), placed so that the network's virtual camera
    sees all of them but the arms. Blending bends bone lengths a little between keyframes."""
    shape = sample_shapes(rng, 1, config.height_range).take(np.zeros(keyframes, dtype=int))
    keys = build_bodies(rng, shape)
    rotation = np.repeat(body_to_camera(rng, rng.uniform(*config.yaw_range, 1),
                                           config.camera_pitch, config.camera_roll), keyframes, axis=0)
    keys = keys.transformed(rotation, np.zeros((keyframes, 3)))
    points = keep_in_view_points(keys).reshape(1, -1, 3)
    root, ok = place_in_view(rng, camera, points, rng.uniform(*config.root_distance, 1), 2.0)
    assert ok[0], "no placement keeps every keyframe in view; try another seed"
    keys = keys.transformed(np.broadcast_to(np.eye(3), (keyframes, 3, 3)),
                            np.repeat(root, keyframes, axis=0))
    weight = (np.arange(steps) / steps)[:, None]  # (steps, 1)
    fields = {}
    for field in Body.__dataclass_fields__:
        value = getattr(keys, field)
        following = np.roll(value, -1, axis=0)
        w = weight.reshape((1, steps) + (1,) * (value.ndim - 1))
        blended = value[:, None] * (1 - w) + following[:, None] * w
        fields[field] = blended.reshape((keyframes * steps,) + value.shape[1:])
    u, _, vt = np.linalg.svd(fields["ellipsoid_axes"])  # blended rotations -> nearest rotations
    fields["ellipsoid_axes"] = u @ vt
    return Body(**fields)


def render_room(camera: PinholeCamera, bodies: Body, wall_distance: float = 4.0) -> np.ndarray:
    """Render bodies standing on a floor in front of a back wall (z = wall_distance): real
    sensors' scenes, which the person extraction must cope with. The floor touches the lowest
    point of each body."""
    depth = render_depth(camera, bodies, batch=1)
    rays = camera.pixel_rays().reshape(camera.shape + (3,))
    lowest = bodies.capsules[..., 1].max(axis=(1, 2)) + bodies.capsule_radii.max(axis=1) * 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        # Floor y = lowest (camera level, y down): hit at t = y / ray_y for rays going down.
        floor_z = lowest[:, None, None] / rays[None, ..., 1] * rays[None, ..., 2]
    floor_z = np.where(rays[None, ..., 1] > 0, floor_z, np.inf)
    room = np.minimum(floor_z, wall_distance).astype(np.float32)
    return np.where((depth > 0) & (depth < room), depth, room)


def demo_sequence(seed: int = 0, keyframes: int = 4, steps: int = 20,
                  camera: PinholeCamera = DEMO_CAMERA) -> Sequence:
    """The synthetic camera's loop: keyframes * steps frames (at 30 Hz, 20 steps = 2/3 s each)."""
    bodies = motion_bodies(np.random.default_rng(seed), keyframes, steps)
    depth = render_room(camera, bodies)
    return Sequence(depth, bodies.joints.astype(np.float32),
                    camera.project(bodies.joints).astype(np.float32))


def chunk_rng(seed: int, chunk_index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk_index,)))


def _generate_chunk(args):
    seed, index, count, config = args
    if isinstance(config, WideConfig):
        scenes = generate_wide(chunk_rng(seed, index), count, config)
        labels = {name: getattr(scenes, name) for name in FRAME_LABELS}
    else:
        scenes, labels = generate(chunk_rng(seed, index), count, config=config), {}
    depth_mm = to_millimetres(scenes.depth)
    return index, depth_mm, scenes.joints3d, scenes.pixels, labels


def hands_out_of_view(camera: PinholeCamera, pixels: np.ndarray) -> np.ndarray:
    """(N,) True where one or both hands project outside the image."""
    return ~camera.in_view(pixels[:, list(HANDS)]).all(axis=1)


def write_dataset(out: Path, count: int, seed: int, workers: int = 1,
                  config: SceneConfig | WideConfig = SceneConfig(), progress: bool = True) -> dict:
    """Generate count frames into out/ (memory bounded: chunks stream into memory-mapped files).

    config: SceneConfig, the paper's world, or WideConfig, the wide world, which also writes
    frame_labels.npz (posture family, sensor, occluder, yaw per frame; names in meta.json)."""
    from tqdm import tqdm

    camera = PinholeCamera.virtual()
    out.mkdir(parents=True, exist_ok=True)
    shape = (count,) + camera.shape
    depth = np.lib.format.open_memmap(out / "depth.npy", "w+", np.uint16, shape)
    joints3d = np.lib.format.open_memmap(out / "joints3d.npy", "w+", np.float32,
                                         (count, len(JOINT_NAMES), 3))
    pixels = np.lib.format.open_memmap(out / "pixels.npy", "w+", np.float32,
                                       (count, len(JOINT_NAMES), 2))
    chunks = math.ceil(count / CHUNK)
    jobs = [(seed, i, min(CHUNK, count - i * CHUNK), config) for i in range(chunks)]
    wide = isinstance(config, WideConfig)
    labels = {name: np.zeros(count, dtype) for name, dtype in FRAME_LABELS.items()} if wide else {}
    started = time.perf_counter()
    with tqdm(total=count, unit="frame", disable=not progress, desc="synth") as bar:
        if workers > 1:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for result in pool.imap_unordered(_generate_chunk, jobs):
                    _store(result, depth, joints3d, pixels, labels, bar)
        else:
            for job in jobs:
                _store(_generate_chunk(job), depth, joints3d, pixels, labels, bar)
    seconds = time.perf_counter() - started
    for array in (depth, joints3d, pixels):
        array.flush()
    if wide:
        np.savez(out / "frame_labels.npz", **labels)
    out_of_view = hands_out_of_view(camera, pixels)
    meta = {
        "world": "wide" if wide else "paper",
        "generator_version": WIDE_GENERATOR_VERSION if wide else GENERATOR_VERSION,
        "count": count,
        "seed": seed,
        "chunk_frames": CHUNK,
        "camera": camera.to_dict(),
        "joint_names": list(JOINT_NAMES),
        "depth_units": "uint16 millimetres, 0 = no return",
        "frames_with_hand_out_of_view": int(out_of_view.sum()),
        "scene": asdict(config),
    }
    if wide:
        meta["mix"] = config.weights()
        meta["label_names"] = {"family": list(FAMILIES), "sensor": list(SENSORS),
                               "occluder": list(OCCLUDERS)}
        meta["source_scale"] = SOURCE_SCALE
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return {**meta, "generation_seconds": seconds}


def _store(result, depth, joints3d, pixels, labels, bar):
    index, d, j, p, frame_labels = result
    sl = slice(index * CHUNK, index * CHUNK + len(d))
    depth[sl], joints3d[sl], pixels[sl] = d, j, p
    for name, values in frame_labels.items():
        labels[name][sl] = values
    bar.update(len(d))


TRAIN_FRACTION = 0.6  # the paper's 60/40 split of the 200,000 frames


def split_indices(count: int, val_frames: int, train_fraction: float = TRAIN_FRACTION):
    """(train, validation, test) indices: the first 60 % train, their last val_frames validate,
    the remaining 40 % test (the generator's frames are independent, so order is random)."""
    n_train = int(round(count * train_fraction))
    assert 0 < val_frames < n_train, f"val_frames {val_frames} must be below {n_train}"
    return (np.arange(0, n_train - val_frames), np.arange(n_train - val_frames, n_train),
            np.arange(n_train, count))


def load_frame_labels(directory: Path) -> dict | None:
    """A wide-world dataset's per-frame labels {name: (N,) array}, or None (the paper's world)."""
    path = Path(directory) / "frame_labels.npz"
    if not path.is_file():
        return None
    with np.load(path) as labels:
        return {name: labels[name] for name in labels.files}


def load_dataset(directory: Path, mmap: bool = True):
    """(depth uint16 mm, joints3d, pixels, meta) of a dataset written by write_dataset."""
    directory = Path(directory)
    mode = "r" if mmap else None
    meta = json.loads((directory / "meta.json").read_text())
    return (np.load(directory / "depth.npy", mmap_mode=mode),
            np.load(directory / "joints3d.npy", mmap_mode=mode),
            np.load(directory / "pixels.npy", mmap_mode=mode), meta)
