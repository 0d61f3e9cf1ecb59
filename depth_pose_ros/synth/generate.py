"""The synthetic dataset (paper §3, and the wide world): posed bodies placed in front of the
virtual camera, rendered, written to disk.

A dataset is generated in fixed-size chunks, each from its own seed derived from (seed, chunk
index), so the files depend only on --seed and --count, never on the number of workers.
Files (see write_dataset): depth.npy (uint16 mm), joints3d.npy, pixels.npy, meta.json.
"""
from __future__ import annotations

import functools
import json
import math
import multiprocessing
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.joints import HANDS, JOINT_NAMES
from depth_pose_ros.synth.body import Body, build_bodies, sample_shapes
from depth_pose_ros.synth.placement import body_to_camera, keep_in_view_points, place_in_view
from depth_pose_ros.synth.postures import FAMILIES
from depth_pose_ros.synth.render import render_depth
from depth_pose_ros.synth.sensors import SENSORS
from depth_pose_ros.synth.wide import OCCLUDERS, SOURCE_SCALE, WideConfig, generate_wide

GENERATOR_VERSION = 1  # the paper's world; its files must not change
# 2: centred (the camera turned to the person, as the node does); 3: the floor at the soles
WIDE_GENERATOR_VERSION = 3
# Per-frame labels of the wide world (frame_labels.npz), for evaluation by bins.
FRAME_LABELS = {"family": np.uint8, "sensor": np.uint8, "occluder": np.uint8,
                "yaw_deg": np.float32, "zoom": np.float32}
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
def chunk_rng(seed: int, chunk_index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk_index,)))


def _generate_chunk(args):
    from threadpoolctl import threadpool_limits

    seed, index, count, config = args
    # One BLAS thread per process: the wide world's renders at the sensors' resolution are
    # products large enough for OpenBLAS to spread over every core, no faster so, and its idle
    # threads then spin, taking the cores from the other workers (two workers on two cores made
    # fewer frames a second than one). The frames are the same to the byte.
    with threadpool_limits(limits=1, user_api="blas"):
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


def shard_chunks(count: int, shard: tuple[int, int]) -> range:
    """The chunks of a count-frame dataset that shard (index, of) holds: a contiguous run, so
    the shards in index order are the unsharded dataset's frames in order."""
    index, of = shard
    if not 0 <= index < of:
        raise ValueError(f"shard {index}/{of}: need 0 <= index < of")
    chunks = math.ceil(count / CHUNK)
    return range(index * chunks // of, (index + 1) * chunks // of)


def write_dataset(out: Path, count: int, seed: int, workers: int = 1,
                  config: SceneConfig | WideConfig = SceneConfig(), progress: bool = True,
                  shard: tuple[int, int] = (0, 1)) -> dict:
    """Generate count frames into out/ (memory bounded: chunks stream into memory-mapped files).

    config: SceneConfig, the paper's world, or WideConfig, the wide world, which also writes
    frame_labels.npz (posture family, sensor, occluder, yaw per frame; names in meta.json).
    shard (index, of): write only that part of the count frames (shard_chunks), so that N
    machines make one dataset; load_dataset reads the shards' directories as one."""
    from tqdm import tqdm

    camera = PinholeCamera.virtual()
    out.mkdir(parents=True, exist_ok=True)
    chunks = shard_chunks(count, shard)
    jobs = [(seed, i, min(CHUNK, count - i * CHUNK), config) for i in chunks]
    first = chunks.start * CHUNK
    frames = sum(job[2] for job in jobs)
    shape = (frames,) + camera.shape
    depth = np.lib.format.open_memmap(out / "depth.npy", "w+", np.uint16, shape)
    joints3d = np.lib.format.open_memmap(out / "joints3d.npy", "w+", np.float32,
                                         (frames, len(JOINT_NAMES), 3))
    pixels = np.lib.format.open_memmap(out / "pixels.npy", "w+", np.float32,
                                       (frames, len(JOINT_NAMES), 2))
    wide = isinstance(config, WideConfig)
    labels = {name: np.zeros(frames, dtype) for name, dtype in FRAME_LABELS.items()} if wide else {}
    started = time.perf_counter()
    store = functools.partial(_store, first=first, arrays=(depth, joints3d, pixels), labels=labels)
    with tqdm(total=frames, unit="frame", disable=not progress, desc="synth") as bar:
        if workers > 1:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for result in pool.imap_unordered(_generate_chunk, jobs):
                    bar.update(store(result))
        else:
            for job in jobs:
                bar.update(store(_generate_chunk(job)))
    seconds = time.perf_counter() - started
    for array in (depth, joints3d, pixels):
        array.flush()
    if wide:
        np.savez(out / "frame_labels.npz", **labels)
    out_of_view = hands_out_of_view(camera, pixels)
    meta = {
        "world": "wide" if wide else "paper",
        "generator_version": generator_version(config),
        "count": frames,
        "seed": seed,
        "chunk_frames": CHUNK,
        "camera": camera.to_dict(),
        "joint_names": list(JOINT_NAMES),
        "depth_units": "uint16 millimetres, 0 = no return",
        "frames_with_hand_out_of_view": int(out_of_view.sum()),
        "scene": asdict(config),
    }
    if shard != (0, 1):
        meta["shard"] = {"index": shard[0], "of": shard[1], "first_frame": first,
                         "dataset_count": count}
    if wide:
        meta["mix"] = config.weights()
        meta["label_names"] = {"family": list(FAMILIES), "sensor": list(SENSORS),
                               "occluder": list(OCCLUDERS)}
        meta["source_scale"] = SOURCE_SCALE
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return {**meta, "generation_seconds": seconds}


def _store(result, first, arrays, labels) -> int:
    """One generated chunk into the (shard's) arrays; returns its frame count."""
    index, *chunk, frame_labels = result
    sl = slice(index * CHUNK - first, index * CHUNK - first + len(chunk[0]))
    for array, values in zip(arrays, chunk):
        array[sl] = values
    for name, values in frame_labels.items():
        labels[name][sl] = values
    return len(chunk[0])


def generator_version(config: SceneConfig | WideConfig) -> int:
    """The version whose frames this configuration writes: version 3 only moved the floor
    remnant, so without that (floor_under_feet False) the frames are version 2's."""
    if isinstance(config, WideConfig):
        return WIDE_GENERATOR_VERSION if config.floor_under_feet else 2
    return GENERATOR_VERSION


def world_config(meta: dict) -> SceneConfig | WideConfig:
    """The scene configuration a dataset was generated with, from its meta.json."""
    kind = WideConfig if meta.get("world") == "wide" else SceneConfig
    scene = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["scene"].items()}
    if kind is WideConfig and meta.get("generator_version", 1) < 2:
        scene.setdefault("centred", False)  # version 1 knew only the unturned view
    if kind is WideConfig and meta.get("generator_version", 1) < 3:
        scene.setdefault("floor_under_feet", False)  # versions 1 and 2 lifted it with a foot
    return kind(**scene)


class OnlineFrames:
    """Fresh frames of a dataset's world, rendered by worker processes while training runs
    (train --synth-online): each finished chunk overwrites the oldest frames of the training
    arrays in place. Chunks come from their own seed stream (chunk indices from ONLINE_CHUNKS
    on, spread over ranks), never the dataset's; which step sees which chunk depends on timing,
    so such a run is not repeatable to the bit."""

    ONLINE_CHUNKS = 1 << 40

    def __init__(self, meta: dict, workers: int, arrays: tuple[np.ndarray, ...],
                 share: tuple[int, int] = (0, 1)):
        self._config, self._seed = world_config(meta), meta["seed"]
        self._arrays = arrays  # depth uint16 mm, joints3d, pixels, zoom: written in place
        self._rank, self._ranks = share
        self._pool = multiprocessing.get_context("fork").Pool(workers)
        self._pending: list = []
        self._next_chunk, self._position, self.frames = 0, 0, 0
        for _ in range(2 * workers):  # enough in flight that no worker waits
            self._submit()

    def _submit(self) -> None:
        index = self.ONLINE_CHUNKS + self._next_chunk * self._ranks + self._rank
        self._next_chunk += 1
        self._pending.append(self._pool.apply_async(
            _generate_chunk, ((self._seed, index, CHUNK, self._config),)))

    def refresh(self) -> int:
        """Store every chunk finished since the last call (never waits); frames stored."""
        stored = 0
        while self._pending and self._pending[0].ready():
            _, *chunk, labels = self._pending.pop(0).get()
            chunk.append(labels.get("zoom", np.ones(len(chunk[0]), np.float32)))
            size = len(self._arrays[0])
            rows = (self._position + np.arange(len(chunk[0]))) % size
            for array, values in zip(self._arrays, chunk):
                array[rows] = values
            self._position = (self._position + len(chunk[0])) % size
            stored += len(chunk[0])
            self._submit()
        self.frames += stored
        return stored

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
