"""`depth-pose evaluate`: accuracy of a model on a dataset, as the paper reports it (§5, §6).

Writes metrics.json, report.md and the figures: per-axis errors (Fig. 5), pixel errors (Fig. 6),
3D distance errors (Fig. 7), best and worst frames (Fig. 8), AP@10cm against Kinect (Figs. 9, 11).
The model is an exported model directory (OpenVINO, the runtime path) or a training run directory
(its best.pt, with PyTorch).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_metres
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.learn.augment import (
    AUGMENTED_NOISE_SIGMA,
    TEST_NOISE_SIGMA,
    add_depth_noise,
    add_sensor_artifacts,
    shift_frames,
)
from depth_pose_ros.learn.losses import CONFIDENCE_THRESHOLD
from depth_pose_ros.learn.metrics import (
    DISTANCE_BINS_M,
    FRONTAL_DEG,
    KINECT_AP10_HANDS,
    KINECT_AP10_MEAN,
    PAPER_DNN33_AP10,
    YAW_BINS_DEG,
    bin_names,
    breakdown,
    confidence_report,
    joint_distances,
    sides_swapped,
    summarize,
)
from depth_pose_ros.runtime.encoding import zoom_root_pixels
from depth_pose_ros.synth.dataset import (
    DatasetError,
    load_dataset,
    load_frame_labels,
    test_indices,
    zoom_reference,
)

NOISE_SEED = 2019
SPLITS = ("test", "all")


def load_predictor(model: Path, mirror_average: bool = True):
    """A function (N, 50, 60) metres -> (joints3d, pixels, confidence or None), and a label for
    reports (confidence: models trained with error scales).

    Networks average each frame's estimate with its mirror image's, as the runtime does by
    default, unless mirror_average is False (one pass).
    """
    model = Path(model)
    if (model / "forest.json").is_file():  # the Kinect-style baseline (forest.py)
        from depth_pose_ros.learn.forest import load_forest_predictor
        forest = load_forest_predictor(model)
        return (lambda depth: (*forest(depth), None)), "random forest (Kinect-style)"
    passes = "mirror-averaged" if mirror_average else "one pass"
    if (model / "model.json").is_file():
        from depth_pose_ros.runtime.estimator import PoseEstimator
        estimator = PoseEstimator.load(model, mirror_average=mirror_average)
        # The arithmetic this CPU runs, as the node and the benchmarks say it: a bf16 model
        # runs in f32 on a CPU without native bf16, and its figures may differ.
        return estimator.estimate_batch_with_confidence, (f"{estimator.info['arch']} (OpenVINO "
                                          f"{estimator.describe_precision()}, {passes})")
    import torch

    from depth_pose_ros.learn.checkpoints import load_run
    from depth_pose_ros.runtime.encoding import Preprocessor, average_with_mirror_images

    net, checkpoint = load_run(model)
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])

    @torch.inference_mode()
    def predict(depth):
        outputs = net(torch.from_numpy(pre.inputs(depth))).numpy()
        return (*pre.joints(outputs), pre.confidence(outputs))
    label = f"{checkpoint['arch']} (PyTorch f32, {passes})"
    if mirror_average:
        return (lambda depth: average_with_mirror_images(predict, depth)), label
    return predict, label


def _check_zoom(model: Path, meta: dict) -> None:
    """An exported model sees frames through the camera its data had (synth --zoom): a test set
    of another zoom would measure nothing."""
    info = model / "model.json"
    if not info.is_file():
        return
    trained = float(json.loads(info.read_text()).get("zoom_reference_m", 0.0))
    if trained != zoom_reference(meta):
        def said(zoom):
            return f"--zoom {zoom:g}" if zoom else "no zoom"
        raise DatasetError(f"{model} was trained on frames with {said(trained)}, this dataset "
                           f"has {said(zoom_reference(meta))}: test it on data made so")


def evaluate(model: Path, data: Path, out: Path, noise: float | None = None,
             augmented: bool = False, sensor_artifacts: bool = False, split: str = "test",
             max_frames: int | None = None, batch: int = 2048, mirror_average: bool = True
             ) -> dict:
    from tqdm import tqdm

    predict, label = load_predictor(model, mirror_average)
    depth_mm, joints3d, pixels, meta = load_dataset(data)
    _check_zoom(Path(model), meta)
    frame_labels = load_frame_labels(data)
    zooms = None if frame_labels is None else frame_labels.get("zoom")  # each frame's camera
    # The paper's 60/40 split: the test frames are the last 40 % of a dataset.
    indices = (np.arange(meta["count"]) if split == "all" else test_indices(meta["count"]))
    indices = indices[:max_frames]
    noise = (AUGMENTED_NOISE_SIGMA if augmented else TEST_NOISE_SIGMA) if noise is None else noise
    rng = np.random.default_rng(NOISE_SEED)
    camera = PinholeCamera.virtual()
    pred3d, predpx, true3d, truepx, confidences = [], [], [], [], []
    extremes = {"depth": np.zeros((0,) + camera.shape, np.float32), "score": np.zeros(0),
                "index": np.zeros(0, int)}  # the frames with the 4 lowest and highest errors
    for start in tqdm(range(0, len(indices), batch), desc="evaluate", unit="batch"):
        idx = indices[start:start + batch]
        depth = to_metres(depth_mm[idx[0]:idx[-1] + 1])
        j3d, px = np.asarray(joints3d[idx[0]:idx[-1] + 1]), np.asarray(pixels[idx[0]:idx[-1] + 1])
        zoom = None if zooms is None else zooms[idx[0]:idx[-1] + 1]
        if augmented:
            depth, j3d, px = shift_frames(depth, j3d, rng, camera, zoom)
        if sensor_artifacts:
            depth = add_sensor_artifacts(depth, rng)
        depth = add_depth_noise(depth, noise, rng)
        p3d, ppx, confidence = predict(depth)
        if zoom is not None:
            ppx = zoom_root_pixels(ppx, zoom, camera)
        for store, value in ((pred3d, p3d), (predpx, ppx), (true3d, j3d), (truepx, px),
                             (confidences, confidence)):
            store.append(value)
        _keep_extremes(extremes, depth, joint_distances(p3d, j3d).sum(axis=1), start)
    pred3d, predpx = np.concatenate(pred3d), np.concatenate(predpx)
    true3d, truepx = np.concatenate(true3d), np.concatenate(truepx)

    metrics = summarize(pred3d, true3d, predpx, truepx)
    dist = joint_distances(pred3d, true3d)
    labels = None if frame_labels is None else {k: v[indices] for k, v in frame_labels.items()}
    swapped = sides_swapped(pred3d, true3d)
    groups = _groups(true3d, labels, meta)
    metrics["breakdown"] = breakdown(dist, groups, swapped)
    metrics["sides_swapped"] = float(swapped.mean())
    if labels is not None:  # the per-family hand target's range: within 45 degrees of frontal
        frontal = np.abs(labels["yaw_deg"]) <= FRONTAL_DEG
        metrics["breakdown"]["family_frontal"] = breakdown(
            dist[frontal], {"family": groups["family"][frontal]}, swapped[frontal])["family"]
    if confidences[0] is not None:
        metrics["confidence"] = confidence_report(dist, np.concatenate(confidences))
        metrics["confidence"]["threshold"] = CONFIDENCE_THRESHOLD
        metrics["confidence"]["at_threshold"] = next(
            t for t in metrics["confidence"]["thresholds"] if t["threshold"] == CONFIDENCE_THRESHOLD)
    metrics.update({"model": str(model), "model_label": label, "data": str(data),
                    "world": meta.get("world", "paper"),
                    "generator_version": meta.get("generator_version"),
                    "zoom_reference": zoom_reference(meta),
                    "mirror_average": mirror_average,
                    "split": split, "noise_sigma_m": noise, "augmented": augmented,
                    "sensor_artifacts": sensor_artifacts,
                    "noise_seed": NOISE_SEED, "data_seed": meta["seed"]})
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    figures = write_figures(out, metrics, extremes, pred3d, predpx, true3d, truepx)
    figures.update(write_breakdown_figures(out, metrics))
    (out / "report.md").write_text(report_markdown(metrics, figures))
    return metrics


def _groups(true3d: np.ndarray, labels: dict | None, meta: dict) -> dict:
    """{grouping: (N,) group names}: distance bins always; the wide world's labels when given."""
    groups = {"distance": bin_names(true3d[:, 0, 2], DISTANCE_BINS_M, "m")}
    if labels is not None:
        names = meta["label_names"]
        groups["family"] = np.asarray(names["family"])[labels["family"]]
        groups["yaw"] = bin_names(np.abs(labels["yaw_deg"]), YAW_BINS_DEG, "deg")
        groups["sensor"] = np.asarray(names["sensor"])[labels["sensor"]]
        groups["occluder"] = np.asarray(names["occluder"])[labels["occluder"]]
    return groups


def record_in_model(model_dir: Path, metrics: dict) -> str:
    """Store the headline numbers of an evaluation in the model's model.json; returns the key."""
    info_path = Path(model_dir) / "model.json"
    info = json.loads(info_path.read_text())
    world = metrics.get("world", "paper")
    if world != "paper" and (metrics.get("generator_version") or 1) > 1:
        world += str(metrics["generator_version"])  # wide2: another world than wide (version 1)
    if metrics.get("zoom_reference"):
        world += "_zoom"  # each person zoomed to their distance: another input than wide2's
    key = (f"{'' if world == 'paper' else world + '_'}{metrics['split']}"
           f"{'_augmented' if metrics['augmented'] else ''}"
           f"{'_sensor_artifacts' if metrics.get('sensor_artifacts') else ''}"
           f"{'' if metrics['mirror_average'] else '_one_pass'}")
    info.setdefault("metrics", {})[key] = {
        k: metrics[k] for k in ("n_frames", "mirror_average", "noise_sigma_m", "noise_seed",
                                "data_seed", "ap10",
                                "ap10_mean", "ap10_mean_no_root", "ap10_hands", "median_error_m")}
    entry = info["metrics"][key]
    entry["breakdown"] = {grouping: {g: {k: v[k] for k in ("n", "ap10_no_root", "ap10_hands",
                                                           "sides_swapped")}
                                     for g, v in groups.items()}
                          for grouping, groups in metrics.get("breakdown", {}).items()}
    if "confidence" in metrics:
        entry["confidence"] = {k: metrics["confidence"][k] for k in (
            "threshold", "at_threshold", "expected_calibration_error")}
    info_path.write_text(json.dumps(info, indent=1) + "\n")
    return key


def _keep_extremes(extremes: dict, depth, score, offset, count: int = 4) -> None:
    """Keep the `count` best and worst frames seen so far (depth and summed error)."""
    score_all = np.concatenate([extremes["score"], score])
    index_all = np.concatenate([extremes["index"], offset + np.arange(len(score))])
    depth_all = np.concatenate([extremes["depth"], depth])
    order = np.argsort(score_all)
    keep = np.unique(np.concatenate([order[:count], order[-count:]]))
    extremes.update(depth=depth_all[keep], score=score_all[keep], index=index_all[keep])


def write_figures(out, metrics, extremes, pred3d, predpx, true3d, truepx) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from depth_pose_ros.tools.preview import contact_sheet

    names = list(JOINT_NAMES)
    figures = {}

    def boxplots(values, title, ylabel, filename, groups):
        fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.6), squeeze=False)
        for ax, (group, data) in zip(axes[0], zip(groups, values)):
            ax.boxplot(data, tick_labels=[n.replace("_", "\n") for n in names], showfliers=False,
                       whis=(0, 100))
            ax.set_title(group)
            ax.set_ylabel(ylabel)
            ax.tick_params(axis="x", labelsize=7)
            ax.grid(axis="y", alpha=0.3)
        fig.suptitle(title + " (whiskers: min and max)")
        fig.tight_layout()
        fig.savefig(out / filename, dpi=100)
        plt.close(fig)
        figures[title] = filename

    axis_err = np.abs(pred3d - true3d)
    boxplots([axis_err[..., k] for k in range(3)], "absolute error per axis (m), Fig. 5",
             "m", "fig5_axis_errors.png", ["x (right)", "y (down)", "z (depth)"])
    px_err = np.abs(predpx - truepx)
    boxplots([px_err[..., k] for k in range(2)], "image-plane error (pixels), Fig. 6", "pixels",
             "fig6_pixel_errors.png", ["u (column)", "v (row)"])
    dist = joint_distances(pred3d, true3d)
    boxplots([dist], "3D distance error (m), Fig. 7", "m", "fig7_distance_errors.png",
             ["distance"])

    ap = [metrics["ap10"][n] for n in names]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = np.arange(len(names) + 1)
    ax.bar(xs[:-1], ap, color="tab:blue", label="this model")
    ax.bar(xs[-1], metrics["ap10_mean_no_root"], color="tab:blue")
    # The paper quotes Kinect's hands and its mean over the joints only.
    kinect = [np.nan, np.nan, np.nan, KINECT_AP10_HANDS, np.nan, np.nan, KINECT_AP10_HANDS,
              KINECT_AP10_MEAN]
    ax.plot(xs, kinect, "k_", markersize=22, mew=2,
            label=f"Kinect: hands {KINECT_AP10_HANDS}, mean {KINECT_AP10_MEAN}")
    for x, value in zip(xs, ap + [metrics["ap10_mean_no_root"]]):
        ax.text(x, value + 0.01, f"{value:.2f}", ha="center", fontsize=8)
    ax.set_xticks(xs, [n.replace("_", "\n") for n in names] + ["mean\n(no root)"], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("AP@10cm")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("share of joints within 10 cm, against Kinect (Figs. 9 and 11)")
    fig.tight_layout()
    fig.savefig(out / "fig9_ap10.png", dpi=100)
    plt.close(fig)
    figures["AP@10cm against Kinect, Figs. 9 and 11"] = "fig9_ap10.png"

    # Fig. 8: the frames with the smallest and largest summed joint errors.
    order = np.argsort(extremes["score"])
    picks = extremes["index"][order]
    half = len(order) // 2
    titles = [f"{'best' if k < half else 'worst'}: {extremes['score'][i]:.2f} m"
              for k, i in enumerate(order)]
    sheet = out / "fig8_best_worst.png"
    contact_sheet(extremes["depth"][order], truepx[picks], sheet, columns=4, titles=titles,
                  estimates=predpx[picks])
    figures["best and worst frames (solid: truth, dashed: estimate), Fig. 8"] = sheet.name
    return figures


def write_breakdown_figures(out: Path, metrics: dict) -> dict:
    """AP@10cm by group (one panel per grouping) and, with confidence, its reliability diagram
    and what each threshold keeps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}
    groupings = metrics["breakdown"]
    fig, axes = plt.subplots(1, len(groupings), figsize=(3.6 * len(groupings) + 1, 3.8),
                             squeeze=False, gridspec_kw={"width_ratios": [
                                 max(2, len(g)) for g in groupings.values()]})
    for ax, (grouping, groups) in zip(axes[0], groupings.items()):
        names = list(groups)
        xs = np.arange(len(names))
        ax.bar(xs - 0.2, [groups[g]["ap10_no_root"] for g in names], 0.4, label="non-root")
        ax.bar(xs + 0.2, [groups[g]["ap10_hands"] for g in names], 0.4, label="hands")
        ax.set_xticks(xs, names, rotation=60, ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(grouping.replace("_", " ")
                     + (" (|yaw| <= 45)" if grouping == "family_frontal" else ""), fontsize=9)
        ax.axhline(0.8, color="k", lw=0.6, ls=":")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("AP@10cm")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle("where it fails: AP@10cm by group (dotted: 0.8)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "breakdown.png", dpi=100)
    plt.close(fig)
    figures["AP@10cm by posture family, yaw, distance, sensor and occluder"] = "breakdown.png"

    if "confidence" in metrics:
        conf = metrics["confidence"]
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
        bins = [r for r in conf["reliability"] if r["n"]]
        left.plot([0, 1], [0, 1], "k:", lw=0.8, label="calibrated")
        left.plot([r["predicted"] for r in bins], [r["actual"] for r in bins], "o-",
                  label=f"model (ECE {conf['expected_calibration_error']:.3f})")
        left.set_xlabel("predicted P(within 10 cm)")
        left.set_ylabel("actual share within 10 cm")
        left.set_title("reliability (non-root joints)", fontsize=9)
        left.legend(fontsize=7)
        left.grid(alpha=0.3)
        used = [t for t in conf["thresholds"] if t["ap10_kept"] is not None]
        right.plot([t["kept"] for t in used], [t["ap10_kept"] for t in used], "o-")
        for t in used:
            right.annotate(f"{t['threshold']:g}", (t["kept"], t["ap10_kept"]), fontsize=7,
                           xytext=(3, -9), textcoords="offset points")
        right.axhline(0.9, color="k", lw=0.6, ls=":")
        right.axvline(0.75, color="k", lw=0.6, ls=":")
        right.set_xlabel("share of joints kept")
        right.set_ylabel("AP@10cm of the kept joints")
        right.set_title("confidence thresholds (labels)", fontsize=9)
        right.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "confidence.png", dpi=100)
        plt.close(fig)
        figures["confidence: reliability and thresholds"] = "confidence.png"
    return figures


def breakdown_markdown(metrics: dict) -> list[str]:
    """The breakdown and confidence tables of report.md (also pasted into model cards)."""
    lines = []
    for grouping, groups in metrics["breakdown"].items():
        title = grouping.replace("_", " ") + (" (|yaw| <= 45 deg)" if grouping ==
                                              "family_frontal" else "")
        lines += [f"| {title} | frames | AP@10cm non-root | hands | median error (cm) | "
                  "right and left swapped |", "| --- | --- | --- | --- | --- | --- |"]
        for g, v in groups.items():
            lines.append(f"| {g} | {v['n']} | {v['ap10_no_root']:.3f} | {v['ap10_hands']:.3f} | "
                         f"{v['median_error_m'] * 100:.1f} | {v['sides_swapped']:.1%} |")
        lines.append("")
    if "confidence" in metrics:
        conf = metrics["confidence"]
        lines += [f"Confidence (non-root joints): mean {conf['mean_confidence']:.3f}, expected "
                  f"calibration error {conf['expected_calibration_error']:.3f}; documented "
                  f"threshold {conf['threshold']:g}.", "",
                  "| threshold | joints kept | AP@10cm of the kept |", "| --- | --- | --- |"]
        lines += [f"| {t['threshold']:g} | {t['kept']:.3f} | "
                  + ("-" if t["ap10_kept"] is None else f"{t['ap10_kept']:.3f}") + " |"
                  for t in conf["thresholds"]]
        lines.append("")
    return lines


def report_markdown(metrics: dict, figures: dict) -> str:
    names = list(JOINT_NAMES)
    lines = [
        f"# Evaluation: {metrics['model_label']}", "",
        f"- model: `{metrics['model']}`",
        f"- data: `{metrics['data']}` (seed {metrics['data_seed']}), split `{metrics['split']}`, "
        f"{metrics['n_frames']} frames",
        f"- depth noise sigma {metrics['noise_sigma_m'] * 100:.4g} cm (seed {metrics['noise_seed']})"
        + ("; augmented: shifted one row and one column (paper §6)" if metrics["augmented"] else "")
        + ("; sensor artifacts: ragged outline and holes" if metrics["sensor_artifacts"] else ""),
        "",
        f"**AP@10cm: {metrics['ap10_mean_no_root']:.3f} over the six non-root joints "
        f"(paper DNN33: {PAPER_DNN33_AP10}; Kinect: {KINECT_AP10_MEAN}), "
        f"hands {metrics['ap10_hands']:.3f} "
        f"(Kinect {KINECT_AP10_HANDS}); {metrics['ap10_mean']:.3f} over all seven.**", "",
        "Hands by where the truth lies: " + "; ".join(
            f"{key.replace('_', ' ')} {v['share']:.0%} of hands, AP@10cm "
            + ("-" if v["ap10"] is None else f"{v['ap10']:.3f}")
            for key, v in metrics["ap10_hands_by_view"].items()) + ".", "",
        "| joint | AP@10cm | median 3D error (cm) | q3 (cm) | max (cm) | median x / y / z (cm) "
        "| median u / v (px) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in names:
        d, a, p = metrics["distance_m"][n], metrics["axis_error_m"][n], metrics["pixel_error"][n]
        lines.append(
            f"| {n} | {metrics['ap10'][n]:.3f} | {d['median'] * 100:.1f} | {d['q3'] * 100:.1f} | "
            f"{d['max'] * 100:.1f} | " + " / ".join(f"{a[k]['median'] * 100:.1f}" for k in "xyz")
            + " | " + " / ".join(f"{p[k]['median']:.2f}" for k in "uv") + " |")
    lines.append("")
    lines += breakdown_markdown(metrics)
    for title, filename in figures.items():
        lines += [f"## {title}", "", f"![{title}]({filename})", ""]
    return "\n".join(lines)
