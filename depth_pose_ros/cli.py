"""The depth-pose command line: `depth-pose --help` lists the subcommands."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def cmd_synth(args) -> int:
    from depth_pose_ros.synth import write_dataset

    meta = write_dataset(args.out, args.count, args.seed, workers=args.workers,
                         progress=not args.quiet)
    seconds = meta["generation_seconds"]
    share = meta["frames_with_hand_out_of_view"] / meta["count"]
    print(f"wrote {meta['count']} frames to {args.out} in {seconds:.1f} s "
          f"({meta['count'] / seconds:.0f} frames/s, {args.workers} "
          f"worker{'s' if args.workers > 1 else ''}); "
          f"{share:.1%} with a hand out of view")
    return 0


def cmd_synth_preview(args) -> int:
    from depth_pose_ros.preview import contact_sheet
    from depth_pose_ros.synth import load_dataset

    depth, _, pixels, meta = load_dataset(args.data)
    rng = np.random.default_rng(args.seed)
    count = min(args.frames, len(depth))
    picks = np.sort(rng.choice(len(depth), size=count, replace=False))
    out = contact_sheet(depth[picks].astype(np.float32) / 1000.0, pixels[picks], args.out,
                        titles=[f"#{i}" for i in picks])
    print(f"wrote {out}: {count} of {meta['count']} frames")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="depth-pose",
        description="Upper-body 3D pose from a single very low resolution depth image.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = sub.add_parser("synth", help="generate a synthetic depth dataset (paper §3)",
                           description="Render N frames of a posed human figure in the 60 x 50 "
                           "virtual camera, with exact ground truth. Same seed and count give "
                           "identical files, whatever the number of workers.")
    synth.add_argument("--count", type=_positive_int, required=True, help="number of frames")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--out", type=Path, required=True, help="output directory")
    synth.add_argument("--workers", type=_positive_int, default=1,
                       help="processes rendering in parallel (default 1; 2 on this machine)")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(run=cmd_synth)

    preview = sub.add_parser("synth-preview", help="contact sheet of a dataset's frames",
                             description="Draw randomly chosen frames of a dataset with their "
                             "ground-truth skeletons into one PNG.")
    preview.add_argument("data", type=Path, help="dataset directory written by `synth`")
    preview.add_argument("--out", type=Path, required=True, help="PNG file to write")
    preview.add_argument("--frames", type=_positive_int, default=32, help="frames (default 32)")
    preview.add_argument("--seed", type=int, default=0, help="which frames (default 0)")
    preview.set_defaults(run=cmd_synth_preview)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "data") and not (Path(args.data) / "meta.json").is_file():
        print(f"depth-pose: {args.data} is not a dataset directory (no meta.json); "
              "create one with `depth-pose synth`", file=sys.stderr)
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
