"""`depth-pose compare`: networks (and the random-forest baseline) side by side on one dataset.

Every network gets the same data, split, training threads and wall-clock budget (fast recipe,
seed 0); each is exported (precision chosen by measurement) and evaluated on the test split
(sigma 1.875 cm). Batch-1 speed is measured once all training is done, one model after another,
so that it is not timed beside a training job. The forest is trained on its own rendered frames
(it needs part labels, which the dataset does not store) and evaluated on the same test frames. Runs already finished in OUT
are reused, so an interrupted comparison resumes.

A run is named by a spec: ARCH[:INPUT][:augment], e.g. dnn33, dnn33:paper8bit, dnn33:float:augment.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.learn.metrics import KINECT_AP10_MEAN, PAPER_DNN33_AP10

SECTION7 = ("dnn33",) + tuple(f"{net}_{cut}" for net in (
    "mobilenet", "resnet18", "resnet34", "squeezenet", "vgg16", "vgg16r") for cut in ("f", "s"))
FOREST = "forest"


def _run_name(spec: str) -> str:
    return spec.replace(":", "_")


def run_network(spec: str, data: Path, run: Path, budget: float, eval_frames: int | None,
                progress: bool, val_frames: int = 4000, threads: int = 2) -> None:
    from depth_pose_ros.learn.evaluate import evaluate
    from depth_pose_ros.learn.export import export
    from depth_pose_ros.learn.train import TrainConfig, train

    arch, input_mode, augment = (spec.split(":") + ["float", ""])[:3]
    # Resumes from the run's checkpoint if there is one, and stops at once if its budget is spent.
    train(TrainConfig(arch=arch, input_mode=input_mode, augment=augment == "augment",
                      epochs=1000, time_budget_min=budget, val_frames=val_frames,
                      threads=threads), data, run,
          progress_bar=progress)
    export(run, run / "model", data=data, int8_steps=0)  # INT8 post-training only
    # one pass per frame, as the paper timed and scored its networks
    evaluate(run / "model", data, run / "report", max_frames=eval_frames, mirror_average=False)


def run_forest(data: Path, run: Path, frames: int, eval_frames: int | None) -> None:
    from depth_pose_ros.learn.evaluate import evaluate
    from depth_pose_ros.learn.forest import train_forest

    if not (run / "forest.json").is_file():
        train_forest(run, frames=frames)
    evaluate(run, data, run / "report", max_frames=eval_frames)


def row(run: Path) -> dict:
    """One table row from a finished run directory (network or forest)."""
    metrics = json.loads((run / "report" / "metrics.json").read_text())
    entry = {"run": run.name, "ap10": metrics["ap10"], "ap10_mean_no_root":
             metrics["ap10_mean_no_root"], "ap10_hands": metrics["ap10_hands"],
             "median_hand_error_cm": round(50 * (metrics["median_error_m"]["right_hand"]
                                                 + metrics["median_error_m"]["left_hand"]), 1)}
    if (run / "forest.json").is_file():
        forest = json.loads((run / "forest.json").read_text())
        return entry | {"weights": None, "epochs": None, "minutes": None, "train_mae": None,
                        "val_mae": None, "precision": "sklearn",
                        "b1_fps": round(1e3 / forest["estimate_ms"]["p50"], 1)}
    history = list(csv.DictReader(open(run / "history.csv")))
    model = json.loads((run / "model" / "model.json").read_text())
    speed = json.loads((run / "speed.json").read_text())
    return entry | {
        "weights": model["weights"], "epochs": int(history[-1]["epoch"]),
        "minutes": round(float(history[-1]["minutes"]), 1),
        "train_mae": round(float(history[-1]["train_mae"]), 4),
        "val_mae": round(min(float(h["val_mae"]) for h in history), 4),
        "precision": model["inference_precision"],
        "b1_fps": round(speed["estimate_virtual_one_pass"]["fps"], 1)}


def table(rows: list[dict]) -> str:
    reference = next((r["weights"] for r in rows if r["run"].startswith("dnn33")), None)
    header = (["run", "weights", "x DNN33", "epochs", "train min", "train MAE", "val MAE"]
              + list(JOINT_NAMES) + ["mean (no root)", "hands", "median hand error (cm)",
                                     "precision", "batch-1 fps"])
    lines = ["| " + " | ".join(header) + " |", "| --- " * len(header) + "|"]
    for r in rows:
        ratio = f"{r['weights'] / reference:.2f}" if r["weights"] and reference else ""

        def cell(value, fmt="{}"):
            return "" if value is None else fmt.format(value)
        lines.append("| " + " | ".join(
            [r["run"], cell(r["weights"], "{:,}"), ratio, cell(r["epochs"]),
             cell(r["minutes"], "{:.1f}"), cell(r["train_mae"], "{:.4f}"),
             cell(r["val_mae"], "{:.4f}")]
            + [f"{r['ap10'][j]:.3f}" for j in JOINT_NAMES]
            + [f"{r['ap10_mean_no_root']:.3f}", f"{r['ap10_hands']:.3f}",
               f"{r['median_hand_error_cm']:.1f}", r["precision"], f"{r['b1_fps']:,.0f}"]) + " |")
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["run"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(rows) + 2), 4))
    ax.bar(x - 0.2, [r["ap10_mean_no_root"] for r in rows], 0.4, label="six non-root joints")
    ax.bar(x + 0.2, [r["ap10_hands"] for r in rows], 0.4, label="hands")
    ax.axhline(PAPER_DNN33_AP10, color="k", linestyle="--", linewidth=0.8,
               label=f"paper's DNN33 ({PAPER_DNN33_AP10})")
    ax.axhline(KINECT_AP10_MEAN, color="tab:red", linestyle=":", linewidth=0.8,
               label=f"Kinect ({KINECT_AP10_MEAN})")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("AP@10cm, test split")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(data: Path, budget: float, out: Path, specs=SECTION7 + (FOREST,),
            eval_frames: int | None = None, forest_frames: int = 3000,
            progress: bool = True, val_frames: int = 4000, threads: int = 2,
            speed_seconds: float = 3.0) -> list[dict]:
    """speed_seconds: how long each batch-1 timing takes, its three repeats together."""
    from depth_pose_ros.tools.speed import measure

    out.mkdir(parents=True, exist_ok=True)
    runs = [out / _run_name(spec) for spec in specs]
    for spec, run in zip(specs, runs):
        if not (run / "report" / "metrics.json").is_file():
            if spec == FOREST:
                run_forest(data, run, forest_frames, eval_frames)
            else:
                run_network(spec, data, run, budget, eval_frames, progress, val_frames, threads)
    for spec, run in zip(specs, runs):
        if spec != FOREST and not (run / "speed.json").is_file():
            speed = measure(run / "model", seconds=speed_seconds)
            (run / "speed.json").write_text(json.dumps(speed, indent=1) + "\n")
    rows = [row(run) for run in runs]
    (out / "comparison.json").write_text(json.dumps(
        {"data": str(data), "budget_min": budget, "training_threads": threads,
         "eval_frames": eval_frames, "rows": rows},
        indent=1) + "\n")
    (out / "comparison.md").write_text(table(rows) + "\n")
    chart(rows, out / "comparison.png")
    return rows
