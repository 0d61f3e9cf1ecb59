"""The runtime: an exported model run with OpenVINO on the CPU. numpy + openvino only (no torch).

    from depth_pose_ros.runtime.estimator import PoseEstimator
    estimator = PoseEstimator.load()          # the shipped model
    pose = estimator.estimate_virtual(depth)  # (50, 60) float32 metres, 0 = no return
    pose.names, pose.joints3d, pose.pixels    # 7 names, (7, 3) m camera frame, (7, 2) pixels

By default every frame runs twice, as it is and mirrored left-right, in one batch of two, and the
two estimates are averaged (`mirror_average=False`: one pass).

A model directory holds model.xml / model.bin (OpenVINO IR) and model.json (preprocessing,
camera, joint order, precision, provenance and metrics), as written by `depth-pose export`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.runtime.encoding import (
    Preprocessor,
    average_with_mirror_images,
    mean_with_mirrored,
)

SHIPPED_MODEL = "dnn32d8w"  # eight 3x3 convolutions more, 32 filters wide, a 1000-wide hidden
# layer (issue 15, session 48). models/dnn32d8 is the same with 500 (the default before; 33
# channels cost far more than 32 on CPUs without AMX), models/dnn33d8 the same with 33 filters,
# models/dnn33d4 has four convolutions more, models/dnn33d two, models/dnn33 is DNN33 itself
# Fastest first (BENCHMARKS.md). int8: the NNCF-quantised IR (model_int8.xml), its remaining
# float layers in bf16.
PRECISIONS = ("int8", "bf16", "f32")
# A precision ships (learn/export.py) only if, on validation frames, its median joint error is
# within MAX_PRECISION_LOSS_M of f32's and its AP@10cm (six non-root joints) within
# MAX_PRECISION_AP_LOSS; one chosen by hand that fell short is warned of (precision_cost).
# AP@10cm is the headline metric: the fourth shipped DNN33's INT8 kept its median within
# 0.24 cm yet cost 0.007 of test AP.
MAX_PRECISION_LOSS_M = 0.005
MAX_PRECISION_AP_LOSS = 0.005
STATIC_BATCH_MAX = 8  # frames per call that run a request compiled for their count
_IR_FILE = {"int8": "model_int8.xml", "bf16": "model.xml", "f32": "model.xml"}


def inference_hint(precision: str) -> str:
    """OpenVINO's INFERENCE_PRECISION_HINT for one of PRECISIONS."""
    return "f32" if precision == "f32" else "bf16"


def compile_config(precision: str, threads: int | None = None) -> dict:
    """How the runtime compiles a network for the CPU: latency first, at the precision's
    arithmetic (the bench compiles its engines with the same)."""
    config = {"INFERENCE_PRECISION_HINT": inference_hint(precision), "PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    return config


def static_request(core, model, shape: tuple[int, ...], config: dict):
    """A copy of an OpenVINO model compiled for one static input shape, its input bound once to
    a buffer: (infer request, the buffer to write inputs into)."""
    import openvino as ov

    model = model.clone()
    model.reshape(list(shape))
    request = core.compile_model(model, "CPU", config).create_infer_request()
    buffer = np.zeros(shape, np.float32)
    request.set_input_tensor(ov.Tensor(buffer, shared_memory=True))
    return request, buffer


def describe_precision(precision: str, arithmetic: str) -> str:
    """One of PRECISIONS and the float arithmetic OpenVINO runs it in (PoseEstimator.arithmetic)
    -> 'bf16', or where this CPU runs it otherwise, 'bf16 run as f32 on this CPU' (int8: its
    float layers)."""
    if arithmetic == inference_hint(precision):
        return precision
    what = ", float layers" if precision == "int8" else " run"
    return f"{precision}{what} as {arithmetic} on this CPU"


def precision_cost(check: dict, precision: str) -> str | None:
    """What one of PRECISIONS cost against f32 in check (model.json's precision_check: each
    precision's median error and AP@10cm on validation frames) if beyond the shipping rule;
    None within it, or if check did not measure it."""
    medians, aps = check.get("median_error_m", {}), check.get("ap10_no_root", {})
    if not {precision, "f32"} <= medians.keys() & aps.keys():
        return None
    if (medians[precision] - medians["f32"] <= MAX_PRECISION_LOSS_M
            and aps["f32"] - aps[precision] <= MAX_PRECISION_AP_LOSS):
        return None
    return (f"{precision} measured a median joint error of {100 * medians[precision]:.1f} cm "
            f"(AP@10cm {aps[precision]:.3f}) against f32's {100 * medians['f32']:.1f} cm "
            f"({aps['f32']:.3f}) when this model was exported")


def ir_path(model_dir: Path, precision: str) -> Path:
    """The IR (.xml) in a model directory that runs at one of PRECISIONS."""
    return Path(model_dir) / _IR_FILE[precision]


def _why(error: Exception) -> str:
    """An error's last line: OpenVINO's messages span lines (where in its sources it failed),
    and the last one says why."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class ModelError(RuntimeError):
    """A model directory that is missing, incomplete or not one of ours."""


def default_model_dir() -> Path:
    """The shipped model: models/<SHIPPED_MODEL> of a checkout, or under share/depth_pose_ros."""
    checkout = Path(__file__).resolve().parents[2] / "models" / SHIPPED_MODEL
    if checkout.is_dir():
        return checkout
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory("depth_pose_ros")) / "models" / SHIPPED_MODEL
    except (ImportError, LookupError):
        return checkout


@dataclass(frozen=True)
class PoseEstimate:
    names: tuple[str, ...]
    joints3d: np.ndarray  # (7, 3) metres, camera optical frame
    pixels: np.ndarray  # (7, 2) (u, v) in the virtual 60 x 50 image
    # (7,) probability that each joint lies within 10 cm of the estimate, from the model's error
    # scales (joints.error_confidence); None for a model without them (the paper's DNN33).
    confidence: np.ndarray | None = None


class PoseEstimator:
    """Compiles the model once and reuses one inference request.

    mirror_average: estimate each frame and its mirror image in one batch and average the two
    (AP@10cm +0.02 for about half as much time again per frame, BENCHMARKS.md).
    """

    def __init__(self, model_dir: Path, precision: str | None = None, threads: int | None = None,
                 mirror_average: bool = True):
        import openvino as ov

        model_dir = Path(model_dir)
        info_path = model_dir / "model.json"
        if not info_path.is_file():
            raise ModelError(f"{info_path} is missing: {model_dir} is not a model directory "
                             "written by `depth-pose export`")
        try:
            self.info = json.loads(info_path.read_text())
            self.precision = precision or self.info.get("inference_precision", "f32")
            if self.precision not in PRECISIONS:
                raise ModelError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
            xml_path = ir_path(model_dir, self.precision)
            if not xml_path.is_file() or not xml_path.with_suffix(".bin").is_file():
                raise ModelError(f"{xml_path} (and its .bin) is missing in {model_dir}")
            self.preprocessor = Preprocessor.from_dict(self.info["preprocessing"])
            self.camera = PinholeCamera(**self.info["camera"])
            # > 0: trained to see each person through self.camera zoomed to their distance,
            # as if they stood this many metres away (reproject.zoom_level); 0: no zoom
            self.zoom_reference = float(self.info.get("zoom_reference_m", 0.0))
            model = ov.Core().read_model(xml_path)
            if tuple(self.info["joint_names"]) != JOINT_NAMES:
                raise ModelError(f"{model_dir} has joints {self.info['joint_names']}, "
                                 f"expected {list(JOINT_NAMES)}")
        except ModelError:
            raise
        except (ValueError, KeyError, TypeError, RuntimeError) as error:
            raise ModelError(f"cannot read the model in {model_dir}: {_why(error)}") from error
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ModelError(f"{xml_path} must have one input and one output")
        config = compile_config(self.precision, threads)
        self.model_dir = model_dir
        self.ir_path = xml_path
        # a precision chosen by hand that the export measured as too inaccurate: said, not refused
        self.precision_cost = precision_cost(self.info.get("precision_check", {}), self.precision)
        self.mirror_average = mirror_average
        self._core, self._config, self._model = ov.Core(), config, model
        # A few frames at a time (the node's people) run copies compiled for their static batch
        # (the frames, and their mirror images when averaging), each with its input bound once
        # to a buffer: measured 1.35x the dynamic-shape call for one frame (BENCHMARKS.md).
        self._static: dict[int, tuple] = {}
        try:  # a model that reads but does not compile or run (wrong shapes, a damaged file)
            self._compiled = self._core.compile_model(model, "CPU", config)
            # The float arithmetic OpenVINO runs: a bf16 hint runs in f32 on a CPU without
            # native bf16 (AVX2 only), up to 4x slower; said where the precision is reported.
            self.arithmetic = self._compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
            self._request = self._compiled.create_infer_request()
            self.prepare(1)
            self.estimate_batch(np.zeros((STATIC_BATCH_MAX + 1,) + self.camera.shape,
                                         np.float32))  # warm up the dynamic request
            self.estimate_virtual(np.zeros(self.camera.shape, np.float32))
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"cannot run the model in {model_dir}: {_why(error)}") from error

    def prepare(self, frames: int) -> None:
        """Compile the static requests for batches of 1 to `frames` frames now (about 0.1 s
        each), not on the first frame that has that many people."""
        for n in range(1, min(frames, STATIC_BATCH_MAX) + 1):
            if n not in self._static:
                shape = ((2 * n if self.mirror_average else n), 1, *self.camera.shape)
                self._static[n] = static_request(self._core, self._model, shape, self._config)

    def describe_precision(self) -> str:
        return describe_precision(self.precision, self.arithmetic)

    @classmethod
    def load(cls, path: Path | str | None = None, **kwargs) -> PoseEstimator:
        return cls(Path(path) if path else default_model_dir(), **kwargs)

    def estimate_batch(self, depths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 50, 60) metres -> joints3d (N, 7, 3) and pixels (N, 7, 2)."""
        return self.estimate_batch_with_confidence(depths)[:2]

    def estimate_batch_with_confidence(self, depths: np.ndarray):
        """(N, 50, 60) metres -> joints3d (N, 7, 3), pixels (N, 7, 2) and confidence (N, 7),
        or None for a model without error scales."""
        depths = np.asarray(depths, dtype=np.float32)
        if depths.ndim != 3 or depths.shape[1:] != self.camera.shape:
            raise ValueError(f"expected (N, {self.camera.height}, {self.camera.width}) depth, "
                             f"got {depths.shape}")
        if len(depths) <= STATIC_BATCH_MAX:
            return self._estimate_static(depths)
        if self.mirror_average:
            return average_with_mirror_images(self._estimate_one_pass, depths, self.camera)
        return self._estimate_one_pass(depths)

    def _estimate_static(self, depths: np.ndarray):
        """A few frames through the static request of their count (prepare)."""
        n = len(depths)
        self.prepare(n)
        request, buffer = self._static[n]
        self.preprocessor.inputs(depths, out=buffer[:n])
        if self.mirror_average:
            self.preprocessor.inputs(depths[:, :, ::-1], out=buffer[n:])
        request.infer()
        joints3d, pixels, confidence = self._decode(request.get_output_tensor().data)
        if self.mirror_average:  # the frames' and their mirror images' estimates
            joints3d, pixels, confidence = mean_with_mirrored(joints3d, pixels, self.camera,
                                                              confidence)
        return joints3d, pixels, confidence

    def _decode(self, outputs: np.ndarray):
        joints3d, pixels = self.preprocessor.joints(outputs, self.camera)
        return joints3d, pixels, self.preprocessor.confidence(outputs)

    def _estimate_one_pass(self, depths: np.ndarray):
        outputs = self._request.infer([self.preprocessor.inputs(depths)])
        return self._decode(next(iter(outputs.values())))

    def estimate_virtual(self, depth: np.ndarray) -> PoseEstimate:
        """One (50, 60) frame in metres in the virtual camera (0 = no return)."""
        depth = np.asarray(depth, dtype=np.float32)
        if depth.shape != self.camera.shape:
            raise ValueError(f"expected ({self.camera.height}, {self.camera.width}) depth, "
                             f"got {depth.shape}")
        joints3d, pixels, confidence = self._estimate_static(depth[None])
        return PoseEstimate(JOINT_NAMES, joints3d[0], pixels[0],
                            None if confidence is None else confidence[0])
