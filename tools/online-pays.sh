#!/usr/bin/env bash
# Does --synth-online pay on this machine (issue 19, BENCHMARKS.md)? The same wall-time budget
# from scratch on a small stored set (the first FRAMES training frames of DATA), with and
# without fresh frames rendered by one worker; prints each run's last validation AP@10cm.
#   tools/online-pays.sh DATA [MINUTES] [FRAMES]
set -euo pipefail
data=$1
minutes=${2:-4}
frames=${3:-20000}
dp=.venv/bin/depth-pose
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--data "$data" --arch dnn33 --epochs 1000 --time-budget "$minutes" --augment
        --loss joints --max-train-frames "$frames" --threads 2 --seed 19 --quiet)
for workers in 0 1; do
    $dp train "${common[@]}" --out "$out/w$workers" --synth-online "$workers" > /dev/null
    tail -1 "$out/w$workers/history.csv" | awk -F, -v w="$workers" '{printf \
        "--synth-online %s: %s epochs in %.1f min, val AP@10cm %.3f (hands %.3f), %s fresh frames\n", \
        w, $1, $2, $6, $7, $NF}'
done
