"""The synthetic dataset (paper §3): posed bodies placed in front of the virtual camera, rendered.

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

from depth_pose_ros.body import Body, build_bodies, sample_shapes
from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.joints import HANDS, JOINT_NAMES
from depth_pose_ros.placement import body_to_camera, keep_in_view_points, place_in_view
from depth_pose_ros.postures import FAMILIES
from depth_pose_ros.render import render_depth, render_depth_culled
from depth_pose_ros.sensors import SENSORS
from depth_pose_ros.wide import OCCLUDERS, SOURCE_SCALE, WideConfig, generate_wide

GENERATOR_VERSION = 1  # the paper's world; its files must not change
WIDE_GENERATOR_VERSION = 2  # 2: centred (the camera turned to the person, as the node does)
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
    if not ok[0]:
        raise ValueError("no placement keeps every keyframe in view; try another seed")
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


# --- several people walking in a room: the multi-person demo, bags and benchmark ------------------

VISIBLE_TO_COUNT = 0.7  # a person this much in view and unoccluded is one a tracker must find


def truth_bodies(joints3d: np.ndarray, pixels: np.ndarray, visible: np.ndarray,
                 camera: PinholeCamera) -> list[dict]:
    """A synthetic frame's truth as the fields of /bodies_gt's Body messages (the node's and
    the bag writer's message types differ; the rule is this one): person p has ID p + 1,
    `tracked` while at least VISIBLE_TO_COUNT of them is visible (the message's TRACKED, LOST
    otherwise), confidence 1."""
    return [dict(id=p + 1, tracked=bool(visible[p] >= VISIBLE_TO_COUNT), names=list(JOINT_NAMES),
                 positions=np.asarray(joints3d[p], np.float64),
                 pixel_u=pixels[p, :, 0].astype(np.float32),
                 pixel_v=pixels[p, :, 1].astype(np.float32),
                 in_view=camera.in_view(pixels[p]).astype(bool),
                 confidence=np.ones(len(JOINT_NAMES), np.float32))
            for p in range(len(joints3d))]


@dataclass(frozen=True)
class PeopleScene:
    """People walking to and fro across the camera's view, each in a lane of their own depth, so
    that they cross and hide one another; their arms move through poses as in demo_sequence.
    Frames are rendered on demand (frame(k)): a minute at 640 x 480 would not fit in memory."""

    camera: PinholeCamera
    people: list[Body]  # one per person, a body per frame
    floor_y: float  # the floor plane y = floor_y in the camera frame (level camera)
    wall_distance: float = 6.0

    @property
    def frames(self) -> int:
        return len(self.people[0])

    def frame(self, k: int, each_alone: bool = False):
        """Frame k -> (depth (H, W) float32 metres, joints3d (P, 7, 3), pixels (P, 7, 2),
        visible (P,)): each person's share of their pixels that the camera sees (inside the
        image and not hidden by another); with each_alone, also (P, H, W): each person alone
        in the same room."""
        bodies = [person.take([k]) for person in self.people]
        alone = [render_depth_culled(self.camera, b)[0] for b in bodies]
        room = _room(self.camera, self.floor_y, self.wall_distance)
        depth = room
        for person in alone:
            depth = np.where((person > 0) & (person < depth), person, depth)
        wide = _widened(self.camera, VISIBILITY_SCALE)
        visible = np.zeros(len(self.people), np.float32)
        for p, (b, person) in enumerate(zip(bodies, alone)):
            everywhere = np.count_nonzero(render_depth_culled(wide, b)[0]) * VISIBILITY_SCALE ** 2
            visible[p] = min(1.0, np.count_nonzero((person > 0) & (person == depth))
                             / max(everywhere, 1))
        joints = np.stack([b.joints[0] for b in bodies]).astype(np.float32)
        result = (depth.astype(np.float32), joints,
                  self.camera.project(joints).astype(np.float32), visible)
        if each_alone:
            result += (np.stack([np.where((p > 0) & (p < room), p, room) for p in alone]),)
        return result


@dataclass(frozen=True)
class PeopleSequence:
    """Rendered frames of several people with their truth (a PeopleScene's, or one person's)."""

    depth: np.ndarray  # (N, H, W) float32 metres, 0 = no return
    joints3d: np.ndarray  # (N, P, 7, 3) camera frame; person p has ID p + 1
    pixels: np.ndarray  # (N, P, 7, 2)
    visible: np.ndarray  # (N, P) share of each person the camera sees (PeopleScene.frame)

    @classmethod
    def of_one(cls, sequence: Sequence) -> PeopleSequence:
        """demo_sequence's one person, whole in view."""
        return cls(sequence.depth, sequence.joints3d[:, None], sequence.pixels[:, None],
                   np.ones((len(sequence.depth), 1), np.float32))


def render_people(scene: PeopleScene, progress: bool = False) -> PeopleSequence:
    """Every frame of a scene, in memory (for loops of a few seconds)."""
    from tqdm import tqdm
    frames = [scene.frame(k) for k in tqdm(range(scene.frames), desc="render", unit="frame",
                                           disable=not progress)]
    return PeopleSequence(*(np.stack(part) for part in zip(*frames)))


PEOPLE_LOOP_FRAMES = 150  # a 5 s loop at 30 Hz


def people_loop(seed: int, people: int, progress: bool = False) -> PeopleSequence:
    """The synthetic camera's people:=N loop (and the demo's): PEOPLE_LOOP_FRAMES frames in
    which everyone's walk and arms come back to where they started."""
    return render_people(people_scene(seed, people, PEOPLE_LOOP_FRAMES,
                                      period_s=PEOPLE_LOOP_FRAMES / 30.0), progress)


_WIDE_PLACEMENT = PinholeCamera.from_hfov(60, 50, 120.0)
VISIBILITY_SCALE = 4  # a person's whole extent is counted at a quarter of the resolution


def _widened(camera: PinholeCamera, scale: int) -> PinholeCamera:
    """The camera's view grown by its own size on every side, at 1/scale of its resolution."""
    return PinholeCamera(3 * camera.width // scale, 3 * camera.height // scale, camera.fx / scale,
                         camera.fy / scale, (camera.cx + camera.width + 0.5) / scale - 0.5,
                         (camera.cy + camera.height + 0.5) / scale - 0.5)


def _room(camera: PinholeCamera, floor_y: float, wall_distance: float) -> np.ndarray:
    """A level floor at y = floor_y and a back wall at z = wall_distance (as render_room)."""
    rays = camera.pixel_rays().reshape(camera.shape + (3,))
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_z = np.where(rays[..., 1] > 0, floor_y / rays[..., 1] * rays[..., 2], np.inf)
    return np.minimum(floor_z, wall_distance).astype(np.float32)


def people_scene(seed: int = 0, people: int = 2, frames: int = 240, rate: float = 30.0,
                 camera: PinholeCamera = DEMO_CAMERA, camera_height: float = 1.0,
                 period_s: float | None = None) -> PeopleScene:
    """people walking to and fro in lanes 0.7 m apart in depth (from 2.4 m), each along a
    sine of 8 to 12 s (or period_s, for a seamless loop of that length), paths and phases drawn
    so that they cross and hide one another and reach the image's sides."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / rate
    half_fov = (camera.width / 2) / camera.fx  # tan of half the horizontal field of view
    walkers = []
    for p in range(people):
        steps = 30  # the arms' loop: keyframes * steps frames
        keyframes = max(2, min(8, -(-frames // steps)))
        if period_s and frames % steps == 0:
            keyframes = frames // steps  # the arms loop with the walk
        try:
            body = motion_bodies(rng, keyframes, steps)
        except ValueError:  # arms too wide for the network's view: placed below anyway
            body = motion_bodies(rng, keyframes, steps, camera=_WIDE_PLACEMENT)
        body = body.take(np.arange(frames) % len(body))
        z = 2.4 + 0.7 * p + rng.uniform(-0.1, 0.1)
        period = period_s or rng.uniform(8.0, 12.0)
        # Turning back 0.45 m inside the image's side: a person cut by the border a little,
        # never leaving the view (a tracker cannot know someone who comes back from outside).
        x = (half_fov * z - 0.45) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
        lowest = (body.capsules[..., 1].max(axis=(1, 2)) + 0.5 * body.capsule_radii.max(axis=1)
                  - body.joints[:, 0, 1])  # the soles below the mid-hip
        root = np.stack([x, np.full(frames, camera_height) - lowest.max(), np.full(frames, z)], -1)
        walkers.append(body.transformed(np.broadcast_to(np.eye(3), (frames, 3, 3)),
                                        root - body.joints[:, 0]))
    return PeopleScene(camera, walkers, camera_height)


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
        "generator_version": WIDE_GENERATOR_VERSION if wide else GENERATOR_VERSION,
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


TRAIN_FRACTION = 0.6  # the paper's 60/40 split of the 200,000 frames


def split_indices(count: int, val_frames: int, train_fraction: float = TRAIN_FRACTION):
    """(train, validation, test) indices: the first 60 % train, their last val_frames validate,
    the remaining 40 % test (the generator's frames are independent, so order is random)."""
    n_train = int(round(count * train_fraction))
    if not 0 < val_frames < n_train:
        raise DatasetError(f"--val-frames {val_frames} must be below the {n_train} training "
                           f"frames (--train-fraction {train_fraction:g} of {count}); pass a "
                           "smaller --val-frames or use more data")
    return (np.arange(0, n_train - val_frames), np.arange(n_train - val_frames, n_train),
            np.arange(n_train, count))


def world_config(meta: dict) -> SceneConfig | WideConfig:
    """The scene configuration a dataset was generated with, from its meta.json."""
    kind = WideConfig if meta.get("world") == "wide" else SceneConfig
    scene = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["scene"].items()}
    if kind is WideConfig and meta.get("generator_version", 1) < 2:
        scene.setdefault("centred", False)  # version 1 knew only the unturned view
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
        self._arrays = arrays  # depth uint16 mm, joints3d, pixels: written in place
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
            _, *chunk, _ = self._pending.pop(0).get()
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


class DatasetError(ValueError):
    """Directories that are not one dataset (a user mistake, said in one line)."""


def load_frame_labels(directory: Path | list[Path]) -> dict | None:
    """A wide-world dataset's per-frame labels {name: (N,) array}, or None (the paper's world).
    A list of directories: the shards' labels, concatenated in order."""
    if isinstance(directory, (list, tuple)):
        parts = [load_frame_labels(d) for d in directory]
        if any(p is None for p in parts):
            return None
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    path = Path(directory) / "frame_labels.npz"
    if not path.is_file():
        return None
    with np.load(path) as labels:
        return {name: labels[name] for name in labels.files}


def load_dataset(directory: Path | list[Path], mmap: bool = True):
    """(depth uint16 mm, joints3d, pixels, meta) of a dataset written by write_dataset.

    A list of directories: shards of one dataset (synth --shard), consecutive and in order, read
    as one (concatenated in memory; meta count is their total)."""
    if isinstance(directory, (list, tuple)):
        if len(directory) == 1:
            return load_dataset(directory[0], mmap)
        return _load_shards([Path(d) for d in directory])
    directory = Path(directory)
    mode = "r" if mmap else None
    meta = json.loads((directory / "meta.json").read_text())
    return (np.load(directory / "depth.npy", mmap_mode=mode),
            np.load(directory / "joints3d.npy", mmap_mode=mode),
            np.load(directory / "pixels.npy", mmap_mode=mode), meta)


def _load_shards(directories: list[Path]):
    parts = [load_dataset(d) for d in directories]
    metas = [part[3] for part in parts]
    same = ("world", "generator_version", "seed", "chunk_frames", "scene")
    for directory, meta in zip(directories, metas):
        if "shard" not in meta:
            raise DatasetError(f"{directory} is a whole dataset, not a shard (synth --shard)")
        if any(meta[key] != metas[0][key] for key in same) or \
                meta["shard"]["dataset_count"] != metas[0]["shard"]["dataset_count"]:
            raise DatasetError(f"{directory} is a shard of another dataset than "
                               f"{directories[0]} (world, seed, count or scene differ)")
    for (previous, before), (directory, meta) in zip(zip(directories, metas),
                                                     zip(directories[1:], metas[1:])):
        if meta["shard"]["first_frame"] != before["shard"]["first_frame"] + before["count"]:
            raise DatasetError(f"{directory} does not follow {previous}: give the shards in "
                               "order, none missing between them")
    meta = {**metas[0], "count": sum(m["count"] for m in metas),
            "frames_with_hand_out_of_view": sum(m["frames_with_hand_out_of_view"] for m in metas),
            "shard": {**metas[0]["shard"], "of": metas[0]["shard"]["of"],
                      "indices": [m["shard"]["index"] for m in metas]}}
    del meta["shard"]["index"]
    return (*(np.concatenate([part[k] for part in parts]) for k in range(3)), meta)
