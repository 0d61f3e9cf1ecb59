"""Markdown table of training runs (each with config.json, history.csv, report/, speed.json)."""
import csv
import json
import sys
from pathlib import Path

from depth_pose_ros.joints import JOINT_NAMES

rows = []
for run in map(Path, sys.argv[1:]):
    config = json.loads((run / "config.json").read_text())
    history = list(csv.DictReader(open(run / "history.csv")))
    metrics = json.loads((run / "report" / "metrics.json").read_text())
    speed = json.loads((run / "speed.json").read_text())
    model = json.loads((run / "model" / "model.json").read_text())
    rows.append((run.name, config, history, metrics, speed, model))

header = (["run", "weights", "epochs", "train min"] + list(JOINT_NAMES)
          + ["mean (no root)", "hands", "median hand error (cm)", "precision", "batch-1 fps"])
print("| " + " | ".join(header) + " |")
print("| --- " * len(header) + "|")
for name, config, history, m, speed, model in rows:
    hand_median = (m["median_error_m"]["right_hand"] + m["median_error_m"]["left_hand"]) / 2
    print(f"| {name} | {config['weights']:,} | {history[-1]['epoch']} | "
          f"{float(history[-1]['minutes']):.1f} | "
          + " | ".join(f"{m['ap10'][j]:.3f}" for j in JOINT_NAMES)
          + f" | {m['ap10_mean_no_root']:.3f} | {m['ap10_hands']:.3f} | {hand_median * 100:.1f} | "
          f"{model['inference_precision']} | {speed['estimate_virtual']['fps']:,.0f} |")
