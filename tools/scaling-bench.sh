#!/usr/bin/env bash
# What data-parallel training and online rendering cost here (issue 19, BENCHMARKS.md):
# training samples/s of one process with 2 threads against 2 gloo ranks of 1 thread each
# (torchrun), and of one process with and without --synth-online 1. Same data, same frames,
# one epoch each; run it on an otherwise idle machine.
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
OMP_NUM_THREADS=1 .venv/bin/torchrun --standalone --nproc_per_node 2 -m depth_pose_ros.train \
    "${common[@]}" --out "$out/two" --threads 1 > "$out/two.log"
$dp train "${common[@]}" --out "$out/online" --threads 2 --synth-online 1 > "$out/online.log"
fresh=$(tail -1 "$out/online/history.csv" | awk -F, '{print $NF}')
python3 - "$(rate "$out/one.log")" "$(rate "$out/two.log")" "$(rate "$out/online.log")" "$fresh" <<'PY'
import sys
one, two, online = (float(a.split()[0]) for a in sys.argv[1:4])
print(f"1 process x 2 threads: {one:.0f} samples/s")
print(f"2 gloo ranks x 1 thread: {two:.0f} samples/s ({two / one:.2f}x)")
print(f"1 process x 2 threads, --synth-online 1: {online:.0f} samples/s ({online / one:.2f}x), "
      f"{sys.argv[4]} fresh frames in the epoch")
PY
