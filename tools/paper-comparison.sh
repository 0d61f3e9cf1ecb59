#!/usr/bin/env bash
# The paper's Table 2 / Fig. 9 on our data: MLP, DNN20, DNN33, DNN50 (and DNN33 on the paper's
# 8-bit input, and DNN33 with our training augmentation) each trained for the same wall-clock
# budget, exported, evaluated on the test split (sigma 1.875 cm) and timed; prints a markdown table.
#   tools/paper-comparison.sh DATA [BUDGET_MINUTES=8] [OUT=runs/paper-comparison]
set -euo pipefail
data=${1:?usage: tools/paper-comparison.sh DATA [BUDGET_MINUTES] [OUT]}
budget=${2:-8}
out=${3:-runs/paper-comparison}
bin=$(dirname "$0")/../.venv/bin

runs=()
for spec in mlp:float dnn20:float dnn33:float dnn50:float dnn33:paper8bit dnn33:float:augment; do
    IFS=: read -r arch input augment <<<"$spec"
    run=$out/${arch}_${input}${augment:+_$augment}
    runs+=("$run")
    [ -f "$run/report/metrics.json" ] && continue
    "$bin/depth-pose" train --arch "$arch" --input "$input" ${augment:+--augment} --data "$data" \
        --out "$run" --time-budget "$budget" --epochs 1000 --quiet
    "$bin/depth-pose" export "$run" --out "$run/model" --data "$data"
    "$bin/depth-pose" evaluate --model "$run/model" --data "$data" --out "$run/report"
    "$bin/depth-pose" speed --model "$run/model" --json "$run/speed.json"
done
"$bin/python" "$(dirname "$0")/paper_table.py" "${runs[@]}"
