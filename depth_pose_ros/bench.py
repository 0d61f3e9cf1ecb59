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
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from depth_pose_ros.speed import repeated

BATCH = 64


class _OpenVINO:
    """An OpenVINO engine: batch 1 as PoseEstimator runs it (a static-shape copy, input bound to
    a buffer), larger batches on the dynamic-shape model, and batch-1 requests kept in flight
    on the plugin's throughput streams (benchmark_app's `-b 1 -hint throughput`).
    precision: one of estimator.PRECISIONS; model: the IR for it, or a PyTorch model to convert."""

    def __init__(self, model, precision: str):
        import openvino as ov
        import torch

        if not isinstance(model, ov.Model):
            model = ov.convert_model(model, example_input=torch.zeros(1, 1, 50, 60),
                                     input=[(-1, 1, 50, 60)])
        from depth_pose_ros.estimator import inference_hint

        self.hint = inference_hint(precision)
        config = {"INFERENCE_PRECISION_HINT": self.hint, "PERFORMANCE_HINT": "LATENCY"}
        core = ov.Core()
        self._batched = core.compile_model(model, "CPU", config).create_infer_request()
        self._single_model = model.clone()
        self._single_model.reshape([1, 1, 50, 60])
        self._single = core.compile_model(self._single_model, "CPU", config).create_infer_request()
        self._buffer = np.zeros((1, 1, 50, 60), np.float32)
        self._single.set_input_tensor(ov.Tensor(self._buffer, shared_memory=True))

    def __call__(self, x):
        if len(x) == 1:
            self._buffer[...] = x
            self._single.infer()
            return self._single.get_output_tensor().data
        return next(iter(self._batched.infer([x]).values()))

    def in_flight_fps(self, inputs: np.ndarray, seconds: float, repeats: int) -> dict:
        """Frames/s of batch-1 requests kept in flight, median over repeats, and the streams."""
        import openvino as ov

        compiled = ov.Core().compile_model(self._single_model, "CPU", {
            "INFERENCE_PRECISION_HINT": self.hint, "PERFORMANCE_HINT": "THROUGHPUT"})
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
        torch.onnx.export(model, (torch.zeros(1, 1, 50, 60),), str(path), dynamo=False,
                          input_names=["depth"], output_names=["targets"],
                          dynamic_axes={"depth": {0: "n"}, "targets": {0: "n"}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"depth": x})[0]


def _engines(torch_model, shipped_precision: str, folder: Path, model_dir: Path | None = None
             ) -> dict:
    """`openvino` runs the shipped precision; beside it f32, the model directory's other
    precisions, PyTorch and onnxruntime, all on the same weights. Without a model directory
    (the MLP), OpenVINO runs the PyTorch model at the shipped precision's arithmetic."""
    import openvino as ov

    from depth_pose_ros.estimator import PRECISIONS, ir_path

    def openvino(precision):
        if model_dir is None:
            return _OpenVINO(torch_model, precision)
        return _OpenVINO(ov.Core().read_model(ir_path(model_dir, precision)), precision)

    engines = {"openvino": openvino(shipped_precision),
               "openvino_f32": openvino("f32"),
               "torch": _torch(torch_model),
               "onnxruntime": _onnxruntime(torch_model, folder)}
    for precision in PRECISIONS:
        if (model_dir is not None and precision not in (shipped_precision, "f32")
                and ir_path(model_dir, precision).is_file()):
            engines[f"openvino_{precision}"] = openvino(precision)
    return engines


def _speed(call, inputs: np.ndarray, seconds: float, repeats: int) -> dict:
    singles = [inputs[k:k + 1] for k in range(len(inputs))]
    batch = inputs[:BATCH]
    call(batch)  # warm up both shapes
    single = repeated(call, singles, seconds, repeats)
    batched = repeated(call, [batch], seconds, repeats)
    return {"b1_fps": round(single["fps"], 1), "b1_p50_us": round(single["p50_us"], 1),
            "b1_p99_us": round(single["p99_us"], 1), "batch_fps": round(BATCH * batched["fps"], 1)}


def _pipeline_speed(estimator, seconds: float, repeats: int) -> dict:
    from depth_pose_ros.depth_image import to_millimetres
    from depth_pose_ros.pipeline import PosePipeline
    from depth_pose_ros.synth import DEMO_CAMERA, demo_sequence

    pipeline = PosePipeline(estimator)
    frames = [to_millimetres(d) for d in demo_sequence(0, keyframes=2, steps=4).depth]
    result = repeated(lambda raw: pipeline.process(raw, DEMO_CAMERA), frames, seconds, repeats)
    return {"input": "640 x 480 16UC1 (synthetic room), reprojection + person + DNN33",
            "p50_us": round(result["p50_us"], 1), "p99_us": round(result["p99_us"], 1)}


def layer_profile(ir_path: Path, precision: str, calls: int = 500) -> list[dict]:
    """Where a batch-1 inference spends its time: OpenVINO's per-layer counters, mean µs."""
    import openvino as ov

    from depth_pose_ros.estimator import inference_hint

    core = ov.Core()
    model = core.read_model(ir_path)
    model.reshape([1, 1, 50, 60])
    request = core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": inference_hint(precision),
        "PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": True}).create_infer_request()
    x = np.zeros((1, 1, 50, 60), np.float32)
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
        frames: int = 512) -> dict:
    import torch

    from depth_pose_ros.estimator import PoseEstimator
    from depth_pose_ros.export import torch_from_ir
    from depth_pose_ros.models import build_model
    from depth_pose_ros.preprocess import TEST_NOISE_SIGMA, add_depth_noise
    from depth_pose_ros.synth import generate

    estimator = PoseEstimator.load(model_dir)
    rng = np.random.default_rng(0)
    scenes = generate(rng, frames)
    depth = add_depth_noise(scenes.depth, TEST_NOISE_SIGMA, rng)
    inputs = estimator.preprocessor.inputs(depth).astype(np.float32)
    result = {"model": str(estimator.model_dir), "precision": estimator.precision,
              "frames": frames, "seconds_per_measure": seconds, "repeats": repeats}
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        for name, model, model_dir in (
                ("dnn33", torch_from_ir(estimator.model_dir, estimator.info["arch"],
                                        bool(estimator.info.get("error_scales"))),
                 estimator.model_dir),
                ("mlp", build_model("mlp").eval(), None)):
            block = {}
            for engine, call in _engines(model, estimator.precision, Path(folder),
                                         model_dir).items():
                started = time.perf_counter()
                block[engine] = _speed(call, inputs, seconds, repeats)
                if isinstance(call, _OpenVINO):
                    block[engine].update(call.in_flight_fps(inputs, seconds, repeats))
                if name == "dnn33":  # trained weights: what each engine's arithmetic costs
                    outputs = np.concatenate([call(inputs[k:k + BATCH])
                                              for k in range(0, frames, BATCH)])
                    joints, _ = estimator.preprocessor.joints(outputs, estimator.camera)
                    error = np.linalg.norm(joints - scenes.joints3d, axis=2)
                    block[engine]["median_error_cm"] = round(100 * float(np.median(error)), 3)
                block[engine]["measure_s"] = round(time.perf_counter() - started, 1)
            torch_fps = block["torch"]["b1_fps"]
            block["b1_speedup_over_torch"] = {e: round(block[e]["b1_fps"] / torch_fps, 2)
                                              for e in block}
            result[name] = block
    result["pipeline"] = _pipeline_speed(estimator, seconds, repeats)
    result["dnn33_layers_us"] = layer_profile(estimator.ir_path, estimator.precision)
    return result


def report(result: dict) -> str:
    lines = ["| model | engine | batch-1 frames/s | p50 | p99 | batch-1 in flight frames/s | "
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
