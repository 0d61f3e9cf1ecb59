#!/usr/bin/env bash
# The node's pipeline on the four real frames in ../shared/real-depth: one overlay each (the
# estimate on the source image beside the 60 x 50 input the network saw), and those inputs as
# build/real-inputs/<frame>.npy (for `synth-preview --beside`).
#   tools/real-frames.sh [MODEL_DIR] [OUT_DIR]     (defaults: the shipped model, docs/)
set -euo pipefail
cd "$(dirname "$0")/.."
# no MODEL_DIR: no --model, so `estimate` uses the shipped model itself
model=()
if [ -n "${1:-}" ]; then model=(--model "$1"); fi  # one word, whatever the path holds
out=${2:-docs}
real=../shared/real-depth
inputs=build/real-inputs
mkdir -p "$out" "$inputs"
for name in itop_000053 itop_009814 itop_02254; do  # ITOP: fx = fy = 285.71, centre (160, 120)
    .venv/bin/depth-pose estimate "$real/$name.npy" --fx 285.71 --cx 160 --cy 120 \
        "${model[@]}" --out "$out/real-${name}.png" --save-inputs "$inputs/$name.npy" \
        || [ $? -eq 1 ]  # 1: nobody found
done
# CMU Panoptic Kinect v2 node 02 (the sample's config): three people, each found and drawn.
.venv/bin/depth-pose estimate "$real/panoptic_kinect2_000005014.npy" --fx 364.85 --cx 249.18 \
    --cy 202.52 "${model[@]}" --out "$out/real-panoptic.png" \
    --save-inputs "$inputs/panoptic_kinect2_000005014.npy" || [ $? -eq 1 ]
