"""What a network layout would cost the runtime before anyone trains it: untrained networks of
the named architectures (`train --arch` names), compiled by OpenVINO as the runtime compiles
them (bf16 where the CPU has it) for a frame and its mirror image, timed in turn, round and
round; each one's p50 as a multiple of the first's. Needs torch (the training venv).

    .venv/bin/python tools/layout_speed.py dnn33 dnn33d12 dnn32d12 [--seconds 3] [--rounds 2]
"""
import argparse
import sys

import numpy as np
import openvino as ov
import torch

from depth_pose_ros.learn.architectures import ARCHITECTURES
from depth_pose_ros.learn.models import build_model
from depth_pose_ros.runtime.estimator import compile_config, static_request
from depth_pose_ros.tools.speed import cpu_description, repeated

INPUT = (2, 1, 50, 60)  # a frame and its mirror image: estimate_virtual's one call


def compiled(arch: str, core: ov.Core):
    """The runtime's static request for one frame and its mirror (estimator.static_request), its
    input buffer filled with noise."""
    model = build_model(arch, error_scales=True).eval()
    converted = ov.convert_model(model, example_input=torch.zeros(INPUT))
    request, buffer = static_request(core, converted, INPUT, compile_config("bf16"))
    buffer[:] = np.random.default_rng(0).normal(size=INPUT)
    return request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archs", nargs="+", metavar="ARCH", help="the first is the reference")
    parser.add_argument("--seconds", type=float, default=3.0, help="per layout and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    unknown = [arch for arch in args.archs if arch not in ARCHITECTURES]
    if unknown:
        print(f"layout_speed: unknown architecture {unknown[0]!r}; choose from "
              f"{', '.join(sorted(ARCHITECTURES))}", file=sys.stderr)
        return 2
    core = ov.Core()
    requests = {arch: compiled(arch, core) for arch in args.archs}
    frames = [None]  # (the input is bound to the request)
    print(f"untrained layouts, a frame and its mirror per call, on {cpu_description()}")
    for k in range(1, args.rounds + 1):
        p50 = {arch: repeated(lambda _, r=request: r.infer(), frames, args.seconds,
                              3)["p50_us"] for arch, request in requests.items()}
        reference = p50[args.archs[0]]
        print(f"round {k}: " + ", ".join(f"{arch} {us:.0f} us {us / reference:.2f}x"
                                         for arch, us in p50.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
