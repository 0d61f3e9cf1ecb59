"""Datasets on disk (written by synth.generate): loading, shards, mixtures, frame labels and
the split."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TRAIN_FRACTION = 0.6  # the paper's 60/40 split of the 200,000 frames


def test_indices(count: int, train_fraction: float = TRAIN_FRACTION) -> np.ndarray:
    """The test frames: those after the first train_fraction (split_indices' third part)."""
    return np.arange(_training_frames(count, train_fraction), count)


def _training_frames(count: int, train_fraction: float) -> int:
    return int(round(count * train_fraction))


def split_indices(count: int, val_frames: int, train_fraction: float = TRAIN_FRACTION):
    """(train, validation, test) indices: the first 60 % train, their last val_frames validate,
    the remaining 40 % test (the generator's frames are independent, so order is random)."""
    n_train = _training_frames(count, train_fraction)
    if not 0 < val_frames < n_train:
        raise DatasetError(f"--val-frames {val_frames} must be below the {n_train} training "
                           f"frames (--train-fraction {train_fraction:g} of {count}); pass a "
                           "smaller --val-frames or use more data")
    return (np.arange(0, n_train - val_frames), np.arange(n_train - val_frames, n_train),
            test_indices(count, train_fraction))


class DatasetError(ValueError):
    """Directories that are not one dataset (a user mistake, said in one line)."""


def group_datasets(directories: list[Path]) -> list[list[Path]]:
    """train --data's directories as datasets, in order: consecutive shards of one dataset
    (synth --shard) together, each whole dataset alone."""
    groups: list[list[Path]] = []
    previous = None
    for directory in map(Path, directories):
        meta = _read_meta(directory)
        shard = meta.get("shard")
        key = None if shard is None else (meta["world"], meta["seed"], shard["dataset_count"])
        if key is not None and key == previous:
            groups[-1].append(directory)
        else:
            groups.append([directory])
        previous = key
    return groups


def mixture_split(counts: list[int], val_frames: int, max_train_frames: int | None,
                  train_fraction: float = TRAIN_FRACTION) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) indices of each dataset of a mixture: each split as if alone
    (split_indices), val_frames and max_train_frames shared in proportion to their sizes."""
    val_shares = _proportional(val_frames, counts)
    train_shares = _proportional(max_train_frames, counts) if max_train_frames else counts
    splits = []
    for count, val_share, train_share in zip(counts, val_shares, train_shares):
        train_idx, val_idx, _ = split_indices(count, val_share, train_fraction)
        splits.append((train_idx[:train_share], val_idx))
    return splits


def _proportional(total: int, counts: list[int]) -> list[int]:
    """total shared in proportion to counts, the rounding left to the last."""
    shares = [int(round(total * count / sum(counts))) for count in counts[:-1]]
    return shares + [total - sum(shares)]


def check_mixable(directories: list, metas: list[dict]) -> None:
    """Datasets trained on together must share the network's camera, its zoom and the joints."""
    for directory, meta in zip(directories[1:], metas[1:]):
        for key, what in (("camera", "camera"), ("joint_names", "joints")):
            if meta[key] != metas[0][key]:
                raise DatasetError(f"{directory} has another {what} than {directories[0]}: "
                                   "datasets trained on together must share it")
        if zoom_reference(meta) != zoom_reference(metas[0]):
            raise DatasetError(f"{directory} is zoomed to {zoom_reference(meta):g} m, "
                               f"{directories[0]} to {zoom_reference(metas[0]):g} m (0: none): "
                               "datasets trained on together must share the zoom")


def zoom_reference(meta: dict) -> float:
    """A dataset's zoom reference distance in metres (synth --zoom; 0: none, the network's
    own camera), from its meta.json."""
    return float(meta.get("scene", {}).get("zoom_reference", 0.0))


# The wide world's options that draw nothing at 0 (synth --person-occluders, --feet-cut,
# --chest-cut, --back-views): a model's training record names those its datasets were drawn with.
WORLD_SHARES = ("person_occluder_share", "feet_cut_share", "chest_cut_share", "back_view_share")


def describe_dataset(meta: dict) -> dict:
    """What a model's training record says of one dataset, from its meta.json: count, seed,
    generator version, zoom reference, and the WORLD_SHARES above 0."""
    scene = meta.get("scene", {})
    return {**{k: meta[k] for k in ("count", "seed", "generator_version")},
            "zoom_reference": zoom_reference(meta),
            **{k: scene[k] for k in WORLD_SHARES if scene.get(k)}}


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
    meta = _read_meta(directory)
    return (np.load(directory / "depth.npy", mmap_mode=mode),
            np.load(directory / "joints3d.npy", mmap_mode=mode),
            np.load(directory / "pixels.npy", mmap_mode=mode), meta)


def _read_meta(directory: Path) -> dict:
    return json.loads((Path(directory) / "meta.json").read_text())


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
