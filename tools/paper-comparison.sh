#!/usr/bin/env bash
# The paper's Table 2 / Fig. 9 on our data: MLP, DNN20, DNN33, DNN50 (and DNN33 on the paper's
# 8-bit input, and DNN33 with our training augmentation) each trained for the same wall-clock
# budget, exported, evaluated on the test split (sigma 1.875 cm) and timed; a markdown table.
#   tools/paper-comparison.sh DATA [BUDGET_MINUTES=8] [OUT=runs/paper-comparison]
set -euo pipefail
data=${1:?usage: tools/paper-comparison.sh DATA [BUDGET_MINUTES] [OUT]}
budget=${2:-8}
out=${3:-runs/paper-comparison}
exec "$(dirname "$0")/../.venv/bin/depth-pose" compare --data "$data" --budget "$budget" \
    --out "$out" --quiet \
    --runs mlp:float,dnn20:float,dnn33:float,dnn50:float,dnn33:paper8bit,dnn33:float:augment
