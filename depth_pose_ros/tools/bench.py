"""`depth-pose bench`: the same weights and frames on every inference engine here, and the
node's whole per-frame pipeline. Medians over repeats: the machines are shared and noisy.

Engines: `openvino` (the shipped precision, as PoseEstimator runs it), `openvino_f32`, `torch`
(eager, inference_mode) and `onnxruntime` (the ONNX export of the same PyTorch model). DNN33 runs
the shipped weights, read back from the OpenVINO IR into the PyTorch definition, so all four
compute the same function; its median 3D error on fresh synthetic frames shows what each engine's
arithmetic costs in accuracy. DNN33 also runs the model directory's other precisions (estimator.
PRECISIONS: `openvino_int8` or `openvino_bf16`), to show what each trades. OpenVINO
engines are also measured with batch-1 requests in flight on the plugin's throughput streams
(frames/s over both cores, as benchmark_app reports throughput). The MLP runs freshly
initialised weights: speed only.

Each engine is built and timed in a process of its own (and the pipeline and the layer profile
in theirs): OpenVINO's worker threads keep spinning for a while after a call, and in one process
they took the cores from whatever engine ran next (PyTorch measured 20 frames/s there against
380 alone). The parent never runs an engine. The CPU is recorded with the figures.
"""
from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.tools.speed import cpu_description, repeated

BATCH = 64
INPUT = (1, 1) + PinholeCamera.virtual().shape  # one frame: (N, C, H, W)
ENGINES = ("openvino", "openvino_f32", "torch", "onnxruntime")


class _OpenVINO:
    """An OpenVINO engine: batch 1 as PoseEstimator runs it (a static-shape copy, input bound to
    a buffer), larger batches on the dynamic-shape model, and batch-1 requests kept in flight
    on the plugin's throughput streams (benchmark_app's `-b 1 -hint throughput`).
    precision: one of estimator.PRECISIONS; model: the IR for it, or a PyTorch model to convert."""

    def __init__(self, model, precision: str):
        import openvino as ov
        import torch

        if not isinstance(model, ov.Model):
            model = ov.convert_model(model, example_input=torch.zeros(INPUT),
                                     input=[(-1,) + INPUT[1:]])
        from depth_pose_ros.runtime.estimator import compile_config, static_request

        config = compile_config(precision)
        core = ov.Core()
        self._batched = core.compile_model(model, "CPU", config).create_infer_request()
        self._single, self._buffer = static_request(core, model, INPUT, config)
        self._model, self._config = model, config

    def __call__(self, x):
        if len(x) == 1:
            self._buffer[...] = x
            self._single.infer()
            return self._single.get_output_tensor().data
        return next(iter(self._batched.infer([x]).values()))

    def in_flight_fps(self, inputs: np.ndarray, seconds: float, repeats: int) -> dict:
        """Frames/s of batch-1 requests kept in flight, median over repeats, and the streams."""
        import openvino as ov

        single = self._model.clone()
        single.reshape(list(INPUT))
        compiled = ov.Core().compile_model(single, "CPU",
                                           {**self._config, "PERFORMANCE_HINT": "THROUGHPUT"})
        queue = ov.AsyncInferQueue(compiled, compiled.get_property(
            "OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        singles = [inputs[k:k + 1] for k in range(len(inputs))]
        rates = []
        for _ in range(repeats):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / repeats:
                for x in singles:
                    queue.start_async([x])  # waits while every request is busy
                count += len(singles)
            queue.wait_all()
            rates.append(count / (time.perf_counter() - start))
        return {"b1_in_flight_fps": round(float(np.median(rates)), 1),
                "streams": int(compiled.get_property("NUM_STREAMS")),
                "requests": len(queue)}


def _torch(model):
    import torch

    torch.set_num_threads(2)

    def call(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()
    return call


def _onnxruntime(model, folder: Path):
    import warnings

    import onnxruntime as ort
    import torch

    path = folder / "model.onnx"
    with warnings.catch_warnings():  # the TorchScript exporter is deprecated, still the simplest
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(INPUT),), str(path), dynamo=False,
                          input_names=["depth"], output_names=["targets"],
                          dynamic_axes={"depth": {0: "n"}, "targets": {0: "n"}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"depth": x})[0]


def _engine_names(model_dir: Path | None, shipped_precision: str) -> list[str]:
    """`openvino` runs the shipped precision; beside it f32, the model directory's other
    precisions, PyTorch and onnxruntime, all on the same weights."""
    from depth_pose_ros.runtime.estimator import PRECISIONS, ir_path

    return list(ENGINES) + [f"openvino_{p}" for p in PRECISIONS
                    if model_dir is not None and p not in (shipped_precision, "f32")
                    and ir_path(model_dir, p).is_file()]


def _engine(name: str, torch_model, shipped_precision: str, folder: Path,
            model_dir: Path | None):
    """One engine. Without a model directory (the MLP), OpenVINO runs the PyTorch model at the
    shipped precision's arithmetic."""
    import openvino as ov

    from depth_pose_ros.runtime.estimator import ir_path

    if name == "torch":
        return _torch(torch_model)
    if name == "onnxruntime":
        return _onnxruntime(torch_model, folder)
    precision = shipped_precision if name == "openvino" else name.removeprefix("openvino_")
    if model_dir is None:
        return _OpenVINO(torch_model, precision)
    return _OpenVINO(ov.Core().read_model(ir_path(model_dir, precision)), precision)


def _torch_model(name: str, model_dir: Path, info: dict):
    """The bench's PyTorch model: DNN33 with the shipped weights read back from the IR, or a
    freshly initialised MLP (seed 0: the same in every process)."""
    import torch

    from depth_pose_ros.learn.checkpoints import torch_from_ir
    from depth_pose_ros.learn.models import build_model

    if name == "dnn33":
        return torch_from_ir(model_dir, info["arch"], bool(info.get("error_scales")))
    torch.manual_seed(0)
    return build_model("mlp").eval()


def _measure_engine(name: str, engine: str, model_dir: Path, info: dict, inputs: np.ndarray,
                    seconds: float, repeats: int) -> tuple[dict, np.ndarray | None]:
    """Build one engine and time it (run in a process of its own); DNN33's outputs on all the
    inputs come back too, to score each engine's arithmetic."""
    with tempfile.TemporaryDirectory() as folder:
        call = _engine(engine, _torch_model(name, model_dir, info), info["inference_precision"],
                       Path(folder), model_dir if name == "dnn33" else None)
        started = time.perf_counter()
        block = _speed(call, inputs, seconds, repeats)
        if isinstance(call, _OpenVINO):
            block.update(call.in_flight_fps(inputs, seconds, repeats))
        outputs = None if name != "dnn33" else np.concatenate(
            [call(inputs[k:k + BATCH]) for k in range(0, len(inputs), BATCH)])
        block["measure_s"] = round(time.perf_counter() - started, 1)
    return block, outputs


def _in_own_process(function, *args):
    """function(*args) in a fresh process (spawned: nothing of this one's threads or engines)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _speed(call, inputs: np.ndarray, seconds: float, repeats: int) -> dict:
    singles = [inputs[k:k + 1] for k in range(len(inputs))]
    batch = inputs[:BATCH]
    call(batch)  # warm up both shapes
    single = repeated(call, singles, seconds, repeats)
    batched = repeated(call, [batch], seconds, repeats)
    return {"b1_fps": round(single["fps"], 1), "b1_p50_us": round(single["p50_us"], 1),
            "b1_p99_us": round(single["p99_us"], 1), "batch_fps": round(BATCH * batched["fps"], 1)}


def _pipeline_speed(model_dir: Path, seconds: float, repeats: int) -> dict:
    """The node's per-frame step (FrameTracker, the node's defaults) on a 640 x 480 frame."""
    from depth_pose_ros.depth_image import to_millimetres
    from depth_pose_ros.runtime.frame_tracker import FrameTracker
    from depth_pose_ros.synth.scenes import DEMO_CAMERA, demo_sequence

    step = FrameTracker.like_the_node(model_dir)
    frames = [to_millimetres(d) for d in demo_sequence(0, keyframes=2, steps=4).depth]
    clock = iter(range(10**9))
    result = repeated(lambda raw: step.step(raw, DEMO_CAMERA, next(clock) / 30), frames,
                      seconds, repeats)
    return {"input": "640 x 480 16UC1 (synthetic room): the node's per-frame step (person, "
                     "reprojection, DNN33, IDs, smoothing)",
            "p50_us": round(result["p50_us"], 1), "p99_us": round(result["p99_us"], 1)}


def layer_profile(ir_path: Path, precision: str, calls: int = 500) -> list[dict]:
    """Where a batch-1 inference spends its time: OpenVINO's per-layer counters, mean µs."""
    import openvino as ov

    from depth_pose_ros.runtime.estimator import inference_hint

    core = ov.Core()
    model = core.read_model(ir_path)
    model.reshape(list(INPUT))
    request = core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": inference_hint(precision),
        "PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": True}).create_infer_request()
    x = np.zeros(INPUT, np.float32)
    for _ in range(100):
        request.infer([x])
    totals: dict[tuple[str, str], float] = {}
    for _ in range(calls):
        request.infer([x])
        for layer in request.profiling_info:
            key = (layer.node_type, layer.exec_type)
            totals[key] = totals.get(key, 0.0) + layer.real_time.total_seconds()
    rows = [{"layer": kind, "kernel": kernel, "us": round(1e6 * t / calls, 1)}
            for (kind, kernel), t in totals.items()]
    return sorted(rows, key=lambda r: -r["us"])


def run(model_dir: Path | None = None, seconds: float = 3.0, repeats: int = 3,
        frames: int = 512, engines: list[str] | None = None) -> dict:
    """engines: only these (names as ENGINES or the model's other precisions); default all."""
    from depth_pose_ros.camera import PinholeCamera
    from depth_pose_ros.learn.augment import TEST_NOISE_SIGMA, add_depth_noise
    from depth_pose_ros.runtime.encoding import Preprocessor
    from depth_pose_ros.runtime.estimator import default_model_dir, ir_path
    from depth_pose_ros.synth.generate import generate
    from depth_pose_ros.synth.wide import WideConfig, generate_wide

    model_dir = Path(model_dir) if model_dir else default_model_dir()
    info = json.loads((model_dir / "model.json").read_text())  # no engine in this process
    preprocessor = Preprocessor.from_dict(info["preprocessing"])
    camera = PinholeCamera(**info["camera"])
    precision = info["inference_precision"]
    rng = np.random.default_rng(0)
    # frames of the model's own world, so that each engine's error means something: a zoomed
    # model's is the wide world zoomed to each person, the paper model's the paper's
    zoom = info.get("zoom_reference_m")
    scenes = (generate_wide(rng, frames, WideConfig(zoom_reference=zoom)) if zoom
              else generate(rng, frames))
    depth = add_depth_noise(scenes.depth, TEST_NOISE_SIGMA, rng)
    inputs = preprocessor.inputs(depth).astype(np.float32)
    result = {"model": str(model_dir), "precision": precision, "cpu": cpu_description(),
              "frames": frames, "seconds_per_measure": seconds, "repeats": repeats}
    for name in ("dnn33", "mlp"):
        block = {}
        for engine in _engine_names(model_dir if name == "dnn33" else None, precision):
            if engines and engine not in engines:
                continue
            block[engine], outputs = _in_own_process(_measure_engine, name, engine, model_dir,
                                                     info, inputs, seconds, repeats)
            if outputs is not None:  # trained weights: what each engine's arithmetic costs
                joints, _ = preprocessor.joints(outputs, camera)
                error = np.linalg.norm(joints - scenes.joints3d, axis=2)
                block[engine]["median_error_cm"] = round(100 * float(np.median(error)), 3)
        torch_fps = block["torch"]["b1_fps"] if "torch" in block else float("nan")
        block["b1_speedup_over_torch"] = {e: round(block[e]["b1_fps"] / torch_fps, 2)
                                          for e in block}
        result[name] = block
    result["pipeline"] = _in_own_process(_pipeline_speed, model_dir, seconds, repeats)
    result["dnn33_layers_us"] = _in_own_process(layer_profile, ir_path(model_dir, precision),
                                                precision)
    return result


def report(result: dict) -> str:
    lines = [f"{result['model']} ({result['precision']}) on {result['cpu']}; each engine in "
             "a process of its own", "",
             "| model | engine | batch-1 frames/s | p50 | p99 | batch-1 in flight frames/s | "
             "batch-64 frames/s | x torch (batch 1) | median 3D error |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("dnn33", "mlp"):
        for engine in result[name]["b1_speedup_over_torch"]:  # the engines that ran
            r = result[name][engine]
            error = f"{r['median_error_cm']:.2f} cm" if "median_error_cm" in r else "(untrained)"
            label = f"{engine} ({result['precision']})" if engine == "openvino" else engine
            in_flight = (f"{r['b1_in_flight_fps']:,.0f} ({r['streams']} streams)"
                         if "b1_in_flight_fps" in r else "")
            lines.append(f"| {name} | {label} | {r['b1_fps']:,.0f} | {r['b1_p50_us']:.0f} µs | "
                         f"{r['b1_p99_us']:.0f} µs | {in_flight} | {r['batch_fps']:,.0f} | "
                         f"{result[name]['b1_speedup_over_torch'][engine]:.2f} | {error} |")
    p = result["pipeline"]
    lines.append(f"\nnode pipeline ({p['input']}): p50 {p['p50_us']:.0f} µs, "
                 f"p99 {p['p99_us']:.0f} µs")
    layers = result["dnn33_layers_us"]
    lines.append(f"\nDNN33 batch 1 ({result['precision']}), OpenVINO's per-layer counters, "
                 f"{sum(r['us'] for r in layers):.0f} µs in all: " + ", ".join(
                     f"{r['layer']} {r['us']:.0f} µs" for r in layers[:6]))
    return "\n".join(lines)
