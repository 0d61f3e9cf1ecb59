"""The depth-pose command line: `depth-pose --help` lists the subcommands."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

from depth_pose_ros.learn.architectures import ARCHITECTURES
from depth_pose_ros.learn.losses import LOSSES
from depth_pose_ros.runtime.estimator import PRECISIONS


def _people(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 16, got {text!r}")
    return value


def _engine(text: str) -> str:
    from depth_pose_ros.tools.bench import ENGINES

    names = ENGINES + tuple(f"openvino_{p}" for p in PRECISIONS if p != "f32")
    if text not in names:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(names)}, got {text!r}")
    return text


def _shard(text: str) -> tuple[int, int]:
    index, _, of = text.partition("/")
    try:
        shard = int(index), int(of)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be I/N (part I of N, from 0), got {text}")
    if not 0 <= shard[0] < shard[1]:
        raise argparse.ArgumentTypeError(f"must be I/N with 0 <= I < N, got {text}")
    return shard


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _whole_number(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _not_negative(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text}")
    return value


# The wide world's parts (wide.WideConfig), each its own switch on `synth`.
WIDE_PARTS = {
    "postures": "posture families mixed with the paper's reaching",
    "facing": "yaw over the full circle, weighted towards the camera",
    "bodies": "heights 1.4-2.0 m, wider girth, clothing, hair",
    "framing": "mid-hip 0.8-5 m, bodies cut by the image border",
    "room": "floor remnant, wall piece, occluders in front",
    "sensors": "structured-light and time-of-flight models, then the node's reprojection",
    "centred": "the network's camera turned to look at the person, as the node does",
}


def cmd_synth(args) -> int:
    from depth_pose_ros.synth.dataset import DatasetError
    from depth_pose_ros.synth.generate import WIDE_GENERATOR_VERSION, SceneConfig, write_dataset
    from depth_pose_ros.synth.wide import WideConfig

    if args.zoom and (args.world != "wide" or not args.centred):
        raise DatasetError("--zoom needs --world wide, centred (a zoom follows a turned camera)")
    for option in ("person_occluders", "feet_cut", "chest_cut", "back_views", "generator_version"):
        if getattr(args, option) and args.world != "wide":
            raise DatasetError(f"--{option.replace('_', '-')} needs --world wide")
    if args.back_views and not args.facing:
        raise DatasetError("--back-views needs --facing (the full circle)")
    config = SceneConfig() if args.world == "paper" else WideConfig(
        **{part: getattr(args, part) for part in WIDE_PARTS}, zoom_reference=args.zoom,
        person_occluder_share=args.person_occluders, feet_cut_share=args.feet_cut,
        chest_cut_share=args.chest_cut, back_view_share=args.back_views,
        floor_under_feet=(args.generator_version or WIDE_GENERATOR_VERSION) >= 3)
    meta = write_dataset(args.out, args.count, args.seed, workers=args.workers, config=config,
                         progress=not args.quiet, shard=args.shard)
    seconds = meta["generation_seconds"]
    share = meta["frames_with_hand_out_of_view"] / meta["count"]
    print(f"wrote {meta['count']} frames to {args.out} in {seconds:.1f} s "
          f"({meta['count'] / seconds:.0f} frames/s, {args.workers} "
          f"worker{'s' if args.workers > 1 else ''}); "
          f"{share:.1%} with a hand out of view")
    return 0


def _synth_options(sub) -> None:
    synth = sub.add_parser("synth", help="generate a synthetic depth dataset (paper §3)",
                           description="Render N frames of a posed human figure in the 60 x 50 "
                           "virtual camera, with exact ground truth. Same seed and count give "
                           "identical files, whatever the number of workers.")
    synth.add_argument("--count", type=_positive_int, required=True, help="number of frames")
    synth.add_argument("--seed", type=_whole_number, default=0, help="random seed (default 0)")
    synth.add_argument("--out", type=Path, required=True, help="output directory")
    synth.add_argument("--workers", type=_positive_int, default=1,
                       help="processes rendering in parallel (default 1; 2 on this machine)")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.add_argument("--shard", type=_shard, default=(0, 1), metavar="I/N",
                       help="write part I of N (from 0) of the --count frames: the N parts, "
                       "given to train --data in order, are exactly the unsharded dataset")
    synth.add_argument("--world", choices=("paper", "wide"), default="paper",
                       help="paper: the paper's world, byte for byte (default); wide: the postures, "
                       "facings, bodies, distances, room remnants and sensors a robot meets")
    for part, text in WIDE_PARTS.items():
        synth.add_argument(f"--{part}", action=argparse.BooleanOptionalAction, default=True,
                           help=f"wide world: {text} (default on)")
    synth.add_argument("--zoom", type=_not_negative, default=0.0, metavar="METRES",
                       help="wide world: each person seen through the network's camera zoomed "
                       "to their distance, as if METRES away (a model trained so makes the node "
                       "zoom too; default 0: no zoom)")
    synth.add_argument("--person-occluders", type=_share, default=0.0, metavar="SHARE",
                       help="wide world: this share of frames has someone passing in front, to "
                       "one side, removed as the node removes them (a gap up to about half the "
                       "person; on with --no-room too; default 0, the frames as before)")
    synth.add_argument("--feet-cut", type=_share, default=0.0, metavar="SHARE",
                       help="wide world: this share of frames loses what lies within the node's "
                       "floor tolerance (8 cm) of the floor, as the node's floor removal cuts "
                       "the feet (on with --no-room too; default 0, the frames as before)")
    synth.add_argument("--chest-cut", type=_share, default=0.0, metavar="SHARE",
                       help="wide world: this share of frames has the person 0.6-1.4 m from a "
                       "low camera, the image's top cutting them between the shoulders and the "
                       "mid-hip (default 0, the frames as before)")
    synth.add_argument("--back-views", type=_share, default=0.0, metavar="SHARE",
                       help="wide world: this share of frames has the person turned away, 90-180 "
                       "degrees from facing the camera (default 0, the frames as before)")
    synth.add_argument("--generator-version", type=int, choices=(2, 3), default=None,
                       help="wide world: 2 writes version 2's frames (every dataset recorded "
                       "before session 21: the floor remnant went through the highest foot "
                       "point); default 3, the floor at the soles under the lowest foot")
    synth.set_defaults(handler=cmd_synth)


def cmd_synth_preview(args) -> int:
    from depth_pose_ros.depth_image import to_metres
    from depth_pose_ros.synth.dataset import load_dataset, load_frame_labels
    from depth_pose_ros.tools.preview import contact_sheet

    depth, joints3d, pixels, meta = load_dataset(args.data)
    labels = load_frame_labels(args.data)
    rng = np.random.default_rng(args.seed)
    count = min(args.frames, len(depth))
    picks = np.sort(rng.choice(len(depth), size=count, replace=False))
    titles = [f"#{i}" for i in picks]
    if labels is not None:  # the wide world: what each frame is
        names = meta["label_names"]
        titles = [f"{names['family'][labels['family'][i]]}, "
                  f"{names['sensor'][labels['sensor'][i]].replace('_', ' ')}, "
                  f"{labels['yaw_deg'][i]:.0f}°, {joints3d[i, 0, 2]:.1f} m" for i in picks]
    frames, skeletons = to_metres(depth[picks]), pixels[picks]
    real = [(path, k, x) for path in args.beside for k, x in enumerate(np.load(path))]
    if real:
        frames = np.concatenate([np.stack([x for _, _, x in real]), frames])
        skeletons = np.concatenate([np.full((len(real),) + pixels.shape[1:], np.nan), skeletons])
        titles = [f"real: {path.stem[:16]} #{k + 1}" for path, k, _ in real] + titles
    out = contact_sheet(frames, skeletons, args.out, titles=titles)
    print(f"wrote {out}: {count} of {meta['count']} frames"
          + (f" after {len(real)} real network inputs" if real else ""))
    return 0


def _synth_preview_options(sub) -> None:
    preview = sub.add_parser("synth-preview", help="contact sheet of a dataset's frames",
                             description="Draw randomly chosen frames of a dataset with their "
                             "ground-truth skeletons into one PNG.")
    preview.add_argument("data", type=Path, help="dataset directory written by `synth`")
    preview.add_argument("--out", type=Path, required=True, help="PNG file to write")
    preview.add_argument("--frames", type=_positive_int, default=32, help="frames (default 32)")
    preview.add_argument("--seed", type=_whole_number, default=0, help="which frames (default 0)")
    preview.add_argument("--beside", type=Path, nargs="+", default=[], metavar="NPY",
                         help="real network inputs (estimate --save-inputs) drawn first, "
                         "without a skeleton, to compare with the synthetic frames")
    preview.set_defaults(handler=cmd_synth_preview)


def cmd_train(args) -> int:
    from depth_pose_ros.learn.train import TrainConfig, train

    cfg = TrainConfig(arch=args.arch, recipe=args.recipe, input_mode=args.input, epochs=args.epochs,
                      time_budget_min=args.time_budget, batch_size=args.batch_size,
                      max_train_frames=args.max_train_frames, val_frames=args.val_frames,
                      augment=args.augment, sensor_artifacts=args.sensor_artifacts,
                      loss=args.loss, error_scales=args.error_scales, keep_best=args.keep_best,
                      average_weights=args.average_weights, seed=args.seed,
                      threads=args.threads, device=args.device, synth_online=args.synth_online,
                      train_fraction=args.train_fraction,
                      init_from=str(args.init_from) if args.init_from else None,
                      fast_lr=TrainConfig.fast_lr if args.lr is None else args.lr)
    train(cfg, args.data, args.out, progress_bar=not args.quiet)
    return 0


def _train_options(sub) -> None:
    trainer = sub.add_parser("train", help="train a network on a synthetic dataset (paper §4)",
                             description="Train on the first 60 %% of a dataset (its last "
                             "--val-frames validate). Writes checkpoint.pt (resumable: run the "
                             "same command again), best.pt, history.csv and loss_curve.png.")
    trainer.add_argument("--arch", choices=tuple(ARCHITECTURES), default="dnn33")
    trainer.add_argument("--data", type=Path, nargs="+", required=True,
                         help="dataset directory, or the directories of its shards in order "
                         "(synth --shard); several datasets of one camera and zoom train "
                         "together, each split as if alone")
    trainer.add_argument("--out", type=Path, required=True, help="run directory")
    trainer.add_argument("--recipe", choices=("paper", "fast"), default="fast",
                         help="paper: SGD lr 0.05 momentum 0.3; fast: AdamW + one-cycle, bf16 "
                         "(default)")
    trainer.add_argument("--input", choices=("float", "paper8bit"), default="float",
                         help="depth encoding: full precision (default) or the paper's 8 bits")
    trainer.add_argument("--epochs", type=_positive_int, default=100, help="at most (default 100)")
    trainer.add_argument("--time-budget", type=_positive, default=None, metavar="MIN",
                         help="stop after MIN minutes; the fast schedule spans them")
    trainer.add_argument("--batch-size", type=_positive_int, default=256)
    trainer.add_argument("--val-frames", type=_positive_int, default=4000)
    trainer.add_argument("--max-train-frames", type=_positive_int, default=None)
    trainer.add_argument("--augment", action="store_true",
                         help="beyond the paper: random mirror and shifts of up to 2 pixels")
    trainer.add_argument("--sensor-artifacts", action="store_true",
                         help="beyond the paper: a ragged outline and holes on half the frames, "
                         "as real sensors leave them")
    trainer.add_argument("--loss", choices=LOSSES, default="mae",
                         help="mae: the paper's, over min-max normalised outputs (default); "
                         "joints: mean 3D joint distance in metres, what AP@10cm measures")
    trainer.add_argument("--error-scales", action="store_true",
                         help="beyond the paper: one more output per joint, its error scale "
                         "(a likelihood loss), which the runtime turns into a confidence")
    trainer.add_argument("--keep-best", choices=("loss", "ap"), default="loss",
                         help="the epoch best.pt keeps: the lowest validation loss (default, "
                         "the paper's) or the highest validation AP@10cm of the non-root "
                         "joints (with --error-scales the loss also weighs the scales' fit)")
    trainer.add_argument("--average-weights", type=float, default=0.0, metavar="DECAY",
                         help="beyond the paper: validate and keep a moving average of the "
                         "weights, this decay per step (e.g. 0.9995, about 2,000 steps; "
                         "default 0: off); the trained weights' validation AP is recorded too")
    trainer.add_argument("--train-fraction", type=_fraction, default=0.6, metavar="F",
                         help="the first F of the dataset trains (its last --val-frames "
                         "validate), the rest tests (default 0.6, the paper's 60/40)")
    trainer.add_argument("--seed", type=_whole_number, default=0)
    trainer.add_argument("--threads", type=_positive_int, default=2,
                         help="CPU threads per process (per rank under torchrun; default 2)")
    trainer.add_argument("--synth-online", type=_whole_number, default=0, metavar="WORKERS",
                         help="beyond the paper: WORKERS processes render fresh frames of the "
                         "data's world while training, each new chunk replacing the oldest "
                         "training frames (default 0: off; BENCHMARKS.md says when it pays)")
    trainer.add_argument("--device", choices=("auto", "cpu", "cuda", "xpu"), default="auto",
                         help="auto: an accelerator torch sees, else the CPU (default); bf16 "
                         "autocast where the device has it natively. Data-parallel: run under "
                         "torchrun --nproc_per_node N -m depth_pose_ros.tools.cli train ... (README)")
    trainer.add_argument("--init-from", type=Path, default=None, metavar="RUN",
                         help="start from a run's best weights or an exported model's (e.g. "
                         "models/dnn33-paper) with a fresh schedule; from other data, its output "
                         "layer is rescaled to this data's target ranges; a DNN into a wider or deeper "
                         "one (dnn33 -> dnn48w, dnn33d) grows without changing its predictions; "
                         "into a narrower one (dnn33d8 -> dnn32d8) it is pruned, which costs "
                         "accuracy that training regains")
    trainer.add_argument("--lr", type=_positive, default=None,
                         help="peak learning rate of the fast recipe (default 1.5e-3)")
    trainer.add_argument("--quiet", action="store_true", help="no progress bar")
    trainer.set_defaults(handler=cmd_train)


def cmd_compare(args) -> int:
    from depth_pose_ros.tools.compare import compare, table

    rows = compare(args.data, args.budget, args.out, specs=tuple(args.runs.split(",")),
                   eval_frames=args.eval_frames, forest_frames=args.forest_frames,
                   progress=not args.quiet, val_frames=args.val_frames, threads=args.threads,
                   speed_seconds=args.speed_seconds)
    print(table(rows))
    print(f"wrote {args.out}/comparison.md, comparison.png, comparison.json")
    return 0


def _compare_options(sub) -> None:
    from depth_pose_ros.tools.compare import FOREST, SECTION7  # names only: no torch import
    comparer = sub.add_parser(
        "compare", help="networks and the forest baseline at one budget, as a table and chart",
        description="Trains each run (ARCH[:INPUT][:augment], or 'forest') for the same "
                    "wall-clock budget on the same data, exports, evaluates on the test split "
                    "and times it; finished runs in OUT are reused.")
    comparer.add_argument("--data", type=Path, required=True)
    comparer.add_argument("--budget", type=_positive, required=True, help="training minutes each")
    comparer.add_argument("--out", type=Path, required=True)
    comparer.add_argument("--runs", default=",".join(SECTION7 + (FOREST,)),
                          help="comma-separated (default: DNN33, the paper's §7 networks, forest)")
    comparer.add_argument("--eval-frames", type=_positive_int,
                          help="evaluate on the first N test frames (default: all)")
    comparer.add_argument("--forest-frames", type=_positive_int, default=3000)
    comparer.add_argument("--val-frames", type=_positive_int, default=4000,
                          help="the training split's last N frames validate (default 4000)")
    comparer.add_argument("--threads", type=_positive_int, default=2,
                          help="training threads for every run (default 2)")
    comparer.add_argument("--speed-seconds", type=_positive, default=3.0,
                          help="seconds each batch-1 timing takes, its three repeats together "
                          "(default 3)")
    comparer.add_argument("--quiet", action="store_true", help="no progress bars")
    comparer.set_defaults(handler=cmd_compare)


def cmd_forest(args) -> int:
    from depth_pose_ros.learn.forest import ForestConfig, train_forest

    info = train_forest(args.out, frames=args.frames,
                        config=ForestConfig(trees=args.trees, max_depth=args.max_depth,
                                            seed=args.seed))
    print(f"wrote {args.out}: forest of {args.trees} trees on {info['samples']:,} pixels of "
          f"{args.frames} frames (fit {info['fit_seconds']} s); estimate p50 "
          f"{info['estimate_ms']['p50']} ms per frame. Evaluate it like a network: "
          f"depth-pose evaluate --model {args.out} --data DIR --out REPORT")
    return 0


def _forest_options(sub) -> None:
    forest = sub.add_parser(
        "forest", help="train the Kinect-style random-forest baseline (Shotton et al.)",
        description="Renders fresh frames with body-part labels, trains a random forest on "
                    "depth-difference features to label pixels with the joint they belong to, "
                    "and saves it; `depth-pose evaluate --model OUT` then scores it like a "
                    "network.")
    forest.add_argument("--out", type=Path, required=True)
    forest.add_argument("--frames", type=_positive_int, default=3000, help="training frames")
    forest.add_argument("--trees", type=_positive_int, default=3)
    forest.add_argument("--max-depth", type=_positive_int, default=20)
    forest.add_argument("--seed", type=_whole_number, default=0)
    forest.set_defaults(handler=cmd_forest)


def cmd_export(args) -> int:
    from depth_pose_ros.learn.export import export

    info = export(args.run, args.out, data=args.data, int8_steps=args.int8_steps)
    check = info.get("precision_check", {}).get("median_error_m", {})
    print(f"wrote {args.out}: {info['arch']}, {info['weights']:,} weights, inference precision "
          f"{info['inference_precision']}" + (f" (median error on {info['precision_check']['frames']}"
          f" validation frames: " + ", ".join(f"{k} {v * 100:.2f} cm" for k, v in check.items())
          + ")" if check else ""))
    return 0


def _export_options(sub) -> None:
    exporter = sub.add_parser("export", help="a training run -> OpenVINO model directory",
                              description="Convert RUN/best.pt to OpenVINO IR with model.json. "
                              "With --data, also write an NNCF INT8 model, measure INT8, bf16 "
                              "and f32 on validation frames and choose the inference precision.")
    exporter.add_argument("run", type=Path, help="training run directory")
    exporter.add_argument("--out", type=Path, required=True, help="model directory to write")
    exporter.add_argument("--data", type=Path, default=None,
                          help="the run's dataset, to measure the inference precision")
    exporter.add_argument("--int8-steps", type=_whole_number, default=None,
                          help="quantisation-aware fine-tuning steps of the INT8 model, 256 "
                          "training frames each (0: post-training quantisation only; default: "
                          "export.INT8_FINETUNE_STEPS)")
    exporter.set_defaults(handler=cmd_export)


def cmd_evaluate(args) -> int:
    from depth_pose_ros.learn.evaluate import evaluate
    from depth_pose_ros.learn.metrics import KINECT_AP10_HANDS, PAPER_DNN33_AP10

    m = evaluate(args.model, args.data, args.out, noise=args.noise, augmented=args.augmented,
                 sensor_artifacts=args.sensor_artifacts, split=args.split,
                 max_frames=args.max_frames, mirror_average=not args.one_pass)
    print(f"{m['model_label']} on {m['n_frames']} frames: AP@10cm {m['ap10_mean_no_root']:.3f} "
          f"over the six non-root joints (paper {PAPER_DNN33_AP10}), hands {m['ap10_hands']:.3f} "
          f"(Kinect {KINECT_AP10_HANDS}), "
          f"all seven {m['ap10_mean']:.3f}; report in {args.out / 'report.md'}")
    if args.record:
        from depth_pose_ros.learn.evaluate import record_in_model
        if not (args.model / "model.json").is_file():
            print("depth-pose: --record needs an exported model directory", file=sys.stderr)
            return 2
        print(f"recorded as metrics.{record_in_model(args.model, m)} in {args.model}/model.json")
    return 0


def _evaluate_options(sub) -> None:
    evaluator = sub.add_parser("evaluate", help="accuracy report of a model (paper §5, §6)",
                               description="AP@10cm, per-axis, 3D and pixel errors, figures. "
                               "MODEL is an exported model directory or a training run.")
    evaluator.add_argument("--model", type=Path, required=True)
    evaluator.add_argument("--data", type=Path, required=True, help="dataset directory")
    evaluator.add_argument("--out", type=Path, required=True, help="report directory")
    evaluator.add_argument("--noise", type=_not_negative, default=None,
                           help="depth noise sigma in m (default 0.01875; 0.00625 augmented)")
    evaluator.add_argument("--augmented", action="store_true",
                           help="shift each frame one row and column (paper §6)")
    evaluator.add_argument("--sensor-artifacts", action="store_true",
                           help="give every frame a ragged outline and holes, as real sensors do")
    evaluator.add_argument("--split", choices=("test", "all"), default="test",
                           help="test: the last 40 %% of the dataset (default); all: every frame")
    evaluator.add_argument("--max-frames", type=_positive_int, default=None)
    evaluator.add_argument("--one-pass", action="store_true",
                           help="one network pass per frame (default: each frame's estimate "
                           "averaged with its mirror image's, as the runtime does)")
    evaluator.add_argument("--record", action="store_true",
                           help="store the headline metrics in the model's model.json")
    evaluator.set_defaults(handler=cmd_evaluate)


def _save_json(result: dict, path: Path | None) -> None:
    """A benchmark's numbers, when --json asks for them."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")


def cmd_speed(args) -> int:
    from depth_pose_ros.runtime.estimator import describe_precision
    from depth_pose_ros.tools.speed import PEOPLE, alternately

    rounds = alternately([args.model, *(args.against or [])], rounds=2 if args.against else 1,
                         precision=args.precision, seconds=args.seconds)
    _save_json({"rounds": rounds} if args.against else rounds[0][0], args.json)
    for results in rounds:
        for result in results:
            what = describe_precision(result["precision"], result["arithmetic"])
            print(f"{result['model']} ({what}) on {result['cpu']}")
            for name in ("estimate_virtual", "estimate_virtual_one_pass",
                         f"estimate_batch_{PEOPLE}"):
                r = result[name]
                print(f"  {name:25s} {r['fps']:8.0f} calls/s  p50 {r['p50_us']:7.1f} us  "
                      f"p99 {r['p99_us']:7.1f} us")
    if args.against:
        print(f"estimate_virtual p50 against {rounds[0][0]['model']}, round by round:")
        for k in range(1, len(rounds[0])):
            ratios = [results[k]["estimate_virtual"]["p50_us"]
                      / results[0]["estimate_virtual"]["p50_us"] for results in rounds]
            print(f"  {rounds[0][k]['model']}: {', '.join(f'{r:.2f}x' for r in ratios)}")
    return 0


def _speed_options(sub) -> None:
    speed = sub.add_parser("speed", help="batch-1 inference speed of an exported model",
                           description="Frames/s and latency of PoseEstimator.estimate_virtual "
                           "(mirror-averaged, the default, and one pass) and of the bare "
                           "OpenVINO call, medians over 3 repeats.")
    speed.add_argument("--model", type=Path, default=None, help="model directory (default: shipped)")
    speed.add_argument("--precision", choices=PRECISIONS, default=None,
                       help="default: the model's own choice")
    speed.add_argument("--seconds", type=_positive, default=6.0, help="measuring time (default 6)")
    speed.add_argument("--against", type=Path, nargs="+", default=None, metavar="MODEL",
                       help="also time these models, alternating with --model twice round, "
                       "and print each one's estimate_virtual p50 as a multiple of --model's "
                       "(compare ratios from one run, never absolute figures across machines)")
    speed.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    speed.set_defaults(handler=cmd_speed)


def _read_depth_file(path: Path) -> np.ndarray:
    """A .npy (uint16 mm or float m) or 16-bit .png (mm) depth image -> its raw array."""
    from depth_pose_ros.depth_image import DepthImageError

    if path.suffix.lower() == ".npy":
        raw = np.load(path)
    elif path.suffix.lower() == ".png":
        from PIL import Image  # matplotlib's own dependency; reads 16-bit PNGs unchanged
        raw = np.asarray(Image.open(path))
    else:
        raise DepthImageError(f"{path}: expected a .npy or .png depth image")
    if raw.ndim != 2 or raw.dtype.kind not in "uf":
        raise DepthImageError(f"{path}: expected a 2-D depth image (uint16 mm or float m), "
                              f"got {raw.dtype} {raw.shape}")
    return raw


def cmd_estimate(args) -> int:
    from depth_pose_ros.depth_image import to_metres
    from depth_pose_ros.runtime.frame_tracker import FrameTracker
    from depth_pose_ros.runtime.pipeline import camera_from_intrinsics

    raw = _read_depth_file(args.file)
    height, width = raw.shape
    k = [args.fx, 0, width / 2 - 0.5 if args.cx is None else args.cx,
         0, args.fy or args.fx, height / 2 - 0.5 if args.cy is None else args.cy, 0, 0, 1]
    camera = camera_from_intrinsics(width, height, k)
    # The node's per-frame step on one frame: on a first frame the smoothing changes nothing.
    tracks, _ = FrameTracker.like_the_node(args.model, max_people=args.max_people).step(
        raw, camera, 0.0)
    people = [track.detection for track in tracks]
    print(f"{args.file}: {width} x {height}, fx={camera.fx:g} fy={camera.fy:g} "
          f"cx={camera.cx:g} cy={camera.cy:g}")
    if not people:
        print("no person found")
    for number, pose in enumerate(people, 1):
        print(f"person {number} of {len(people)} (closest first)")
        print(f"{'joint':<15} {'x (m)':>7} {'y (m)':>7} {'z (m)':>7} {'u (px)':>8} {'v (px)':>8}")
        for name, xyz, uv, ok in zip(pose.names, pose.joints3d, pose.pixels, pose.in_view):
            print(f"{name:<15} {xyz[0]:7.3f} {xyz[1]:7.3f} {xyz[2]:7.3f} {uv[0]:8.1f} {uv[1]:8.1f}"
                  + ("" if ok else "  (out of view)"))
    if args.out:
        from depth_pose_ros.tools.preview import pose_overlay
        print(f"wrote {pose_overlay(to_metres(raw), people, args.out, title=args.file.name)}")
    if args.save_inputs and people:
        np.save(args.save_inputs, np.stack([pose.network_input for pose in people]))
        print(f"wrote {args.save_inputs}: the network's {len(people)} input(s), metres")
    return 0 if people else 1


def _estimate_options(sub) -> None:
    estimate = sub.add_parser(
        "estimate", help="joints in one depth image file (the node's pipeline, no ROS)",
        description="Runs the node's pipeline on one depth image: reprojection into the "
                    "network's camera, person extraction, DNN33. Prints the joints (camera "
                    "frame, metres; source pixels). Exit status 1 when no person is found.")
    estimate.add_argument("file", type=Path, help=".npy (uint16 mm or float m) or 16-bit .png (mm)")
    estimate.add_argument("--fx", type=_positive, required=True, help="focal length in pixels")
    estimate.add_argument("--fy", type=_positive, help="default: --fx")
    estimate.add_argument("--cx", type=float, help="principal point; default: the image centre")
    estimate.add_argument("--cy", type=float)
    estimate.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    estimate.add_argument("--out", type=Path, help="write an overlay PNG here")
    estimate.add_argument("--save-inputs", type=Path, metavar="NPY",
                          help="write the network inputs, (people, 50, 60) metres, here "
                          "(synth-preview --beside draws them next to synthetic frames)")
    estimate.add_argument("--max-people", type=_people, default=4,
                          help="at most this many people, closest first (default 4, 1 to 16)")
    estimate.set_defaults(handler=cmd_estimate)


def cmd_demo(args) -> int:
    from depth_pose_ros.ros.demo import run

    return run(args.out, duration=args.duration, rate=args.rate, seed=args.seed,
               people=args.people)


def _demo_options(sub) -> None:
    demo = sub.add_parser(
        "demo", help="pose_node live on a synthetic depth camera (ROS 2, loopback)",
        description="Starts depth-pose-node and a synthetic 640 x 480 depth camera (a rendered "
                    "person moving in a room), prints joints, rate, latency and error for a "
                    "while, then writes overlay.png and summary.json.")
    demo.add_argument("--out", type=Path, default=Path("build/demo"))
    demo.add_argument("--duration", type=_positive, default=10.0, help="seconds (default 10)")
    demo.add_argument("--rate", type=_positive, default=30.0, help="camera frames per second")
    demo.add_argument("--seed", type=_whole_number, default=0, help="which person and poses")
    demo.add_argument("--people", type=_people, default=1,
                      help="1: one person moving through poses (default); more: people walking "
                      "across the view, crossing and hiding one another (make demo: 2)")
    demo.set_defaults(handler=cmd_demo)


def cmd_bench_node(args) -> int:
    from depth_pose_ros.ros.bench_node import report, run

    result = run(duration=args.duration, rate=args.rate, warmup=args.warmup,
                 precision=args.precision, people=args.people)
    print(report(result))
    _save_json(result, args.json)
    return 0


def _bench_node_options(sub) -> None:
    bench_node = sub.add_parser(
        "bench-node", help="pose_node latency and throughput on 640 x 480 input (ROS 2)",
        description="A synthetic camera process publishes 640 x 480 16UC1 frames at --rate; "
                    "pose_node runs in this process and times every frame from receipt to "
                    "/body_joints published.")
    bench_node.add_argument("--rate", type=_positive, default=500.0, help="frames/s (default 500)")
    bench_node.add_argument("--duration", type=_positive, default=10.0, help="measured seconds")
    bench_node.add_argument("--warmup", type=_not_negative, default=3.0, help="seconds not measured")
    bench_node.add_argument("--precision", choices=PRECISIONS)
    bench_node.add_argument("--people", type=_people, default=1,
                            help="people in the synthetic camera's frames (default 1)")
    bench_node.add_argument("--json", type=Path, help="also write the numbers here")
    bench_node.set_defaults(handler=cmd_bench_node)


def cmd_bench_smoothing(args) -> int:
    from depth_pose_ros.tools.bench_smoothing import report, run

    result = run(seed=args.seed, model_dir=args.model)
    print(report(result))
    _save_json(result, args.json)
    return 0


def _bench_smoothing_options(sub) -> None:
    bench_smoothing = sub.add_parser(
        "bench-smoothing", help="error and jitter with and without the One-Euro filter",
        description="The node's pipeline at 30 Hz on noisy synthetic 640 x 480 frames (a "
                    "still and a moving person): median error and frame-to-frame jitter for "
                    "smoothing off and a few One-Euro settings.")
    bench_smoothing.add_argument("--seed", type=_whole_number, default=0)
    bench_smoothing.add_argument("--model", type=Path, help="default: the shipped model")
    bench_smoothing.add_argument("--json", type=Path)
    bench_smoothing.set_defaults(handler=cmd_bench_smoothing)


def cmd_bench_people(args) -> int:
    from depth_pose_ros.tools.bench_people import report, run

    result = run(people=args.people, seconds=args.seconds, every=args.every, seed=args.seed,
                 model_dir=args.model, progress=not args.quiet, tracked=args.tracked,
                 mirror_average=not args.one_pass, wall=args.wall,
                 remove_walls=not args.keep_walls, approach=args.approach, leave=args.leave)
    print(report(result))
    _save_json(result, args.json)
    return 0


def _bench_people_options(sub) -> None:
    bench_people = sub.add_parser(
        "bench-people", help="several people in a frame against each alone: AP and time",
        description="Synthetic people walking and crossing (640 x 480, 30 Hz): every EVERY-th "
                    "frame through the node's pipeline with everyone in it and with each person "
                    "alone; AP@10cm per person both ways and the time per frame by the number "
                    "of people found. ID switches and recall: bag-eval on bag-record-synth "
                    "--people N.")
    bench_people.add_argument("--people", type=_people, default=3, help="default 3")
    bench_people.add_argument("--seconds", type=_positive, default=60.0, help="default 60")
    bench_people.add_argument("--every", type=_positive_int, default=5,
                              help="run every EVERY-th frame (default 5)")
    bench_people.add_argument("--seed", type=_whole_number, default=0)
    bench_people.add_argument("--model", type=Path, help="default: the shipped model")
    bench_people.add_argument("--tracked", action="store_true",
                              help="what a robot gets: every frame through the node's step "
                              "(IDs, smoothing), with everyone and per person alone; scored "
                              "every EVERY-th (slower: every frame is rendered)")
    bench_people.add_argument("--one-pass", action="store_true",
                              help="no mirror averaging (the node's mirror_average:=false): "
                              "what it saves and costs")
    bench_people.add_argument("--wall", type=_positive, metavar="M",
                              help="the back wall this many metres away (default 6, beyond "
                              "max_depth; 3.35: the second person's back about 12 cm from it)")
    bench_people.add_argument("--keep-walls", action="store_true",
                              help="do not remove the walls (the node's remove_walls:=false)")
    bench_people.add_argument("--approach", action="store_true",
                              help="person 1 walks up to the camera (mid-hip to 0.8 m) and back; "
                              "a table by their distance: found, and AP of their joints in view")
    bench_people.add_argument("--leave", action="store_true",
                              help="everyone walks out of the image at its sides and back: how "
                              "soon people coming into view are found")
    bench_people.add_argument("--json", type=Path)
    bench_people.add_argument("--quiet", action="store_true", help="no progress bar")
    bench_people.set_defaults(handler=cmd_bench_people)


def cmd_bag_record_synth(args) -> int:
    from depth_pose_ros.tools.bags import record_synth

    result = record_synth(args.out, args.seconds, rate=args.rate, storage=args.storage,
                          seed=args.seed, encoding=args.encoding, people=args.people,
                          progress=not args.quiet, leave=args.leave)
    truth = " and ".join(result["truth_topics"])
    print(f"wrote {result['frames']} frames ({result['encoding']}, {result['rate_hz']:g} Hz, "
          f"{result['storage']}, {args.people} people) with ground truth on {truth} to "
          f"{args.out}")
    return 0


def _bag_record_synth_options(sub) -> None:
    record = sub.add_parser(
        "bag-record-synth", help="a rosbag2 of the synthetic camera with ground truth",
        description="Writes a standard rosbag2 (metadata.yaml; `ros2 bag play` plays it) of a "
                    "rendered person moving in a room, or with --people N of them walking and "
                    "crossing: /camera/depth/image_raw (640 x 480), /camera/depth/camera_info "
                    "and the truth on /bodies_gt (IDs 1..N; a person less than 70 %% visible "
                    "is LOST there) and, for one person, /body_joints_gt.")
    record.add_argument("--out", type=Path, required=True, help="bag directory (must not exist)")
    record.add_argument("--seconds", type=_positive, required=True)
    record.add_argument("--rate", type=_positive, default=30.0)
    record.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    record.add_argument("--encoding", choices=("16UC1", "32FC1"), default="16UC1")
    record.add_argument("--seed", type=_whole_number, default=0, help="which person and poses")
    record.add_argument("--people", type=_people, default=1,
                        help="people walking and crossing (default 1: one person's pose loop; "
                        "more render each frame, about 0.1-0.3 s each)")
    record.add_argument("--leave", action="store_true",
                        help="everyone walks out of the image at its sides and back (as "
                        "bench-people --leave; for one person too, then without "
                        "/body_joints_gt): IDs of people who come back")
    record.add_argument("--quiet", action="store_true", help="no progress bar")
    record.set_defaults(handler=cmd_bag_record_synth)


def cmd_bag_eval(args) -> int:
    import importlib.util

    from depth_pose_ros.tools.bags import BagError, evaluate_bag

    if args.write_bag and importlib.util.find_spec("rclpy") is None:
        raise BagError("--write-bag writes the node's own messages and needs ROS 2 (rclpy): "
                       "source a ROS 2 install, or leave --write-bag out")
    m = evaluate_bag(args.bag, args.out, depth_topic=args.depth_topic, info_topic=args.info_topic,
                     gt_topic=args.gt_topic, write_bag=args.write_bag, model=args.model,
                     progress=not args.quiet)
    print(f"{m['frames']} frames, {m['frames_with_person']} with a person; pipeline p50 "
          f"{m['latency_ms']['p50']:.2f} ms, p99 {m['latency_ms']['p99']:.2f} ms; jitter "
          f"{m['jitter_rms_cm']['raw']} cm raw, {m['jitter_rms_cm']['smoothed']} cm smoothed")
    if "ap10" in m:
        print(f"AP@10cm: six non-root {m['ap10_mean_no_root']:.3f}, all seven "
              f"{m['ap10_mean']:.3f} (smoothed: {m['smoothed']['ap10_mean_no_root']:.3f})")
    print(f"wrote {args.out}/metrics.json, report.md, timeline.png"
          + (f"; estimates in {args.write_bag}" if args.write_bag else ""))
    return 0


def _bag_eval_options(sub) -> None:
    bag_eval = sub.add_parser(
        "bag-eval", help="run the node's pipeline over a bag: metrics, plots, estimates",
        description="Runs the node's pipeline (no middleware) over every depth frame of a "
                    "rosbag2 (mcap or sqlite3; 16UC1 or 32FC1). Writes metrics.json, report.md "
                    "and timeline.png; with ground truth (BodyJoints), AP@10cm and errors of "
                    "/body_joints' person; with /bodies_gt, each person's detection recall "
                    "and precision, ID switches and fragmentations, and AP@10cm.")
    bag_eval.add_argument("bag", type=Path)
    bag_eval.add_argument("--out", type=Path, required=True, help="report directory")
    bag_eval.add_argument("--depth-topic", help="default: /camera/depth/image_raw or the only "
                                                "Image topic")
    bag_eval.add_argument("--info-topic", help="default: camera_info beside the depth topic")
    bag_eval.add_argument("--gt-topic", help="default: /body_joints_gt when present")
    bag_eval.add_argument("--write-bag", type=Path, help="also write the estimates (/body_joints,"
                                                         " /tf, /body_markers) to this new bag")
    bag_eval.add_argument("--model", type=Path, help="default: the shipped model")
    bag_eval.add_argument("--quiet", action="store_true", help="no progress bar")
    bag_eval.set_defaults(handler=cmd_bag_eval)


def cmd_bench(args) -> int:
    from depth_pose_ros.tools.bench import report, run

    result = run(args.model, seconds=args.seconds, repeats=args.repeats, engines=args.engines)
    print(report(result))
    _save_json(result, args.json)
    return 0


def _bench_options(sub) -> None:
    bench = sub.add_parser(
        "bench", help="inference engines side by side, and the node's pipeline",
        description="DNN33 (shipped weights) and an MLP on OpenVINO (shipped precision and f32), "
                    "PyTorch eager and onnxruntime: batch-1 frames/s, p50/p99, batch-64 "
                    "frames/s, median 3D error; then the node's whole per-frame pipeline.")
    bench.add_argument("--model", type=Path, help="default: the shipped model")
    bench.add_argument("--seconds", type=_positive, default=3.0, help="per measurement (default 3)")
    bench.add_argument("--repeats", type=_positive_int, default=3,
                       help="medians over this many runs")
    bench.add_argument("--engines", nargs="+", metavar="ENGINE", type=_engine,
                       help="time only these engines, e.g. `torch` to measure it alone "
                            "(default: all: openvino, openvino_f32, torch, onnxruntime and the "
                            "model's other precisions)")
    bench.add_argument("--json", type=Path, help="also write the numbers here")
    bench.set_defaults(handler=cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="depth-pose",
        description="Upper-body 3D pose from a single very low resolution depth image.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Each command's options live beside its command (_<command>_options), in --help's order.
    _synth_options(sub)
    _synth_preview_options(sub)
    _train_options(sub)
    _compare_options(sub)
    _forest_options(sub)
    _export_options(sub)
    _evaluate_options(sub)
    _estimate_options(sub)
    _demo_options(sub)
    _bag_record_synth_options(sub)
    _bag_eval_options(sub)
    _bench_options(sub)
    _bench_node_options(sub)
    _bench_smoothing_options(sub)
    _bench_people_options(sub)
    _speed_options(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data = getattr(args, "data", None)
    for directory in data if isinstance(data, list) else [data] if data else []:
        if not (Path(directory) / "meta.json").is_file():
            print(f"depth-pose: {directory} is not a dataset directory (no meta.json); "
                  "create one with `depth-pose synth`", file=sys.stderr)
            return 2
    from depth_pose_ros.depth_image import DepthImageError
    from depth_pose_ros.runtime.estimator import ModelError
    from depth_pose_ros.runtime.pipeline import CameraError
    from depth_pose_ros.synth.dataset import DatasetError
    from depth_pose_ros.tools.bags import BagError
    user_errors = (FileNotFoundError, ModelError, DepthImageError, CameraError, BagError,
                   DatasetError)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # here, so that a reader gone away is caught below
        return status
    except BrokenPipeError:
        # The reader went away (`depth-pose estimate F | head -3`): stop quietly, as shell
        # tools do (Python's documented way: no further writes to the closed pipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception as error:
        # The learning side's user errors: their modules (torch) are loaded only by the
        # commands that raise them, so they are looked up, not imported, here.
        learning = [getattr(sys.modules.get(f"depth_pose_ros.learn.{module}"), name, None)
                    for module, name in (("devices", "DeviceError"),
                                         ("train", "TrainConfigError"))]
        if not isinstance(error, user_errors + tuple(t for t in learning if t)):
            raise
        print(f"depth-pose: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # torchrun --nproc_per_node N -m depth_pose_ros.tools.cli train ARGS
    sys.exit(main())
