#!/usr/bin/env bash
# What data-parallel training and online rendering cost here (issue 19, BENCHMARKS.md):
# training samples/s of one process with 2 threads against 2 gloo ranks of 1 thread each
# (torchrun), and of one process with and without --synth-online 1. Same data, same frames,
# one epoch each; and the training batches' preparation alone (noise, mirror, shifts: numpy on
# one core), the bound of any accelerator fed by this data path. Run it on an idle machine.
#   tools/scaling-bench.sh DATA [FRAMES]
set -euo pipefail
data=$1
frames=${2:-20000}
dp=.venv/bin/depth-pose
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--data "$data" --arch dnn33 --epochs 1 --max-train-frames "$frames" --augment
        --loss joints --device cpu --quiet)
rate() { grep -o '[0-9]* samples/s' "$1" | tail -1; }
$dp train "${common[@]}" --out "$out/one" --threads 2 > "$out/one.log"
OMP_NUM_THREADS=1 .venv/bin/torchrun --standalone --nproc_per_node 2 -m depth_pose_ros.tools.cli train \
    "${common[@]}" --out "$out/two" --threads 1 > "$out/two.log"
$dp train "${common[@]}" --out "$out/online" --threads 2 --synth-online 1 > "$out/online.log"
fresh=$(tail -1 "$out/online/history.csv" | awk -F, '{print $NF}')
prepare=$(.venv/bin/python - "$data" <<'PY'
import sys, time
import numpy as np
from depth_pose_ros.depth_image import to_metres
from depth_pose_ros.runtime.encoding import Preprocessor
from depth_pose_ros.learn.augment import training_batch
from depth_pose_ros.synth.dataset import load_dataset
depth, joints3d, pixels, _ = load_dataset(sys.argv[1])
depth, joints3d, pixels = (np.asarray(a[:8192]) for a in (depth, joints3d, pixels))
pre = Preprocessor.fit(to_metres(depth), joints3d, pixels)
rng = np.random.default_rng(0)
start, frames = time.perf_counter(), 0
while time.perf_counter() - start < 5.0:
    idx = rng.integers(0, len(depth), 256)
    training_batch(pre, to_metres(depth[idx]), joints3d[idx], pixels[idx], 0.0125, True, rng)
    frames += 256
print(f"{frames / (time.perf_counter() - start):.0f}")
PY
)
python3 - "$(rate "$out/one.log")" "$(rate "$out/two.log")" "$(rate "$out/online.log")" "$fresh" \
    "$prepare" <<'PY'
import sys
one, two, online = (float(a.split()[0]) for a in sys.argv[1:4])
print(f"1 process x 2 threads: {one:.0f} samples/s")
print(f"2 gloo ranks x 1 thread: {two:.0f} samples/s ({two / one:.2f}x)")
print(f"1 process x 2 threads, --synth-online 1: {online:.0f} samples/s ({online / one:.2f}x), "
      f"{sys.argv[4]} fresh frames in the epoch")
print(f"training batches prepared (augment, noise), 1 core: {float(sys.argv[5]):.0f} samples/s")
PY
