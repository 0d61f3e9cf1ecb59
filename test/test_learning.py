"""Preprocessing, models, metrics, and a tiny train -> export -> estimate -> evaluate run."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import to_targets
from depth_pose_ros.learn.architectures import ARCHITECTURES
from depth_pose_ros.learn.augment import add_depth_noise, shift_frames
from depth_pose_ros.learn.metrics import average_precision, joint_distances, summarize
from depth_pose_ros.learn.models import build_model, count_weights
from depth_pose_ros.learn.train import TrainConfigError
from depth_pose_ros.runtime.encoding import DEPTH_FAR, DEPTH_NEAR, Preprocessor, encode_depth
from depth_pose_ros.runtime.estimator import PRECISIONS
from depth_pose_ros.synth.generate import write_dataset

CAM = PinholeCamera.virtual()


def test_models_as_described_in_the_paper():
    x = torch.zeros(3, 1, 50, 60)
    for arch in ARCHITECTURES:
        assert build_model(arch)(x).shape == (3, 33)
    # conv 5x5x20 + conv 5x5xN + FC (N*13*15 -> 500) + FC (500 -> 33), with biases
    for n in (20, 33, 50):
        expected = (25 * 20 + 20) + (25 * 20 * n + n) + (n * 195 * 500 + 500) + (500 * 33 + 33)
        assert count_weights(build_model(f"dnn{n}")) == expected
    assert count_weights(build_model("dnn33")) == 3_251_586  # not the paper's stated 751k
    # dnn33d: two 3x3 convolutions (33 -> 33) after DNN33's second pooling
    assert count_weights(build_model("dnn33d")) == 3_251_586 + 2 * (33 * 33 * 9 + 33)
    assert count_weights(build_model("dnn33d4")) == 3_251_586 + 4 * (33 * 33 * 9 + 33)
    assert count_weights(build_model("dnn33d8")) == 3_251_586 + 8 * (33 * 33 * 9 + 33)
    assert count_weights(build_model("dnn33d12")) == 3_251_586 + 12 * (33 * 33 * 9 + 33)
    dnn32 = (25 * 20 + 20) + (25 * 20 * 32 + 32) + (32 * 195 * 500 + 500) + (500 * 33 + 33)
    assert count_weights(build_model("dnn32d12")) == dnn32 + 12 * (32 * 32 * 9 + 32)
    # dnn32d8w: dnn32d8 with FC 1000 where it has FC 500
    assert count_weights(build_model("dnn32d8w")) == count_weights(build_model("dnn32d8")) + \
        500 * (32 * 195 + 1) + 500 * 33
    assert count_weights(build_model("mlp")) == 3000 * 500 + 500 + 500 * 33 + 33


def test_metrics_on_hand_computed_cases():
    truth = np.zeros((4, 7, 3))
    pred = truth.copy()
    pred[:, :, 0] = [[0.0], [0.05], [0.099], [0.2]]  # per frame, every joint
    dist = joint_distances(pred, truth)
    np.testing.assert_allclose(dist[:, 3], [0, 0.05, 0.099, 0.2])
    np.testing.assert_allclose(average_precision(dist), 0.75)
    pred[0, 3] = [0.3, 0.4, 0.0]  # one hand 0.5 m off
    m = summarize(pred, truth, np.zeros((4, 7, 2)), np.ones((4, 7, 2)))
    assert m["ap10"]["right_hand"] == 0.5 and m["ap10"]["root"] == 0.75
    assert m["ap10_mean"] == pytest.approx((6 * 0.75 + 0.5) / 7)
    assert m["ap10_mean_no_root"] == pytest.approx((5 * 0.75 + 0.5) / 6)
    assert m["median_error_m"]["root"] == pytest.approx(0.0745)
    assert m["pixel_error"]["left_hand"]["u"]["median"] == 1.0
    assert m["distance_m"]["right_hand"]["max"] == pytest.approx(0.5)
    assert m["ap10_hands_by_view"]["in_view"] == {"share": 1.0, "ap10": pytest.approx(0.625)}
    outside = np.ones((4, 7, 2))
    outside[0, 3] = [-3.0, 10.0]  # the 0.5 m-off right hand of frame 0 lies left of the picture
    by_view = summarize(pred, truth, outside, outside)["ap10_hands_by_view"]
    assert by_view["out_of_view"] == {"share": 0.125, "ap10": 0.0}
    assert by_view["in_view"]["ap10"] == pytest.approx(5 / 7)


def test_noise_touches_only_the_body():
    depth = np.zeros((2, 50, 60), np.float32)
    depth[:, 10:40, 20:30] = 3.0
    noisy = add_depth_noise(depth, [0.01, 0.05], np.random.default_rng(0))
    assert (noisy[depth == 0] == 0).all()
    body = depth > 0
    assert np.std(noisy[0][body[0]] - 3) == pytest.approx(0.01, rel=0.1)
    assert np.std(noisy[1][body[1]] - 3) == pytest.approx(0.05, rel=0.1)


def test_sensor_artifacts_rough_up_only_the_outline_and_punch_holes():
    from depth_pose_ros.learn.augment import (
        SENSOR_EDGE_GAIN,
        SENSOR_EDGE_LOSS,
        add_sensor_artifacts,
    )
    depth = np.zeros((400, 50, 60), np.float32)
    depth[:, 10:40, 20:30] = 3.0
    depth[:, 10:40, 25:30] = 3.2  # the right half farther away
    rough = add_sensor_artifacts(depth, np.random.default_rng(0))
    assert (depth[:, 10:40, 20:30] > 0).all()  # the input is left alone
    np.testing.assert_array_equal(rough, add_sensor_artifacts(depth, np.random.default_rng(0)))
    # Nothing appears away from the body; along it, a pixel gains a neighbour's depth (the
    # farther one where two touch) in about SENSOR_EDGE_GAIN of the places.
    assert (rough[:, :9] == 0).all() and (rough[:, :, 31:] == 0).all()
    np.testing.assert_array_equal(np.unique(rough[:, 9, 20:25]), np.float32([0, 3.0]))
    np.testing.assert_array_equal(np.unique(rough[:, 9, 25:30]), np.float32([0, 3.2]))
    assert (rough[:, 9, 20:30] > 0).mean() == pytest.approx(SENSOR_EDGE_GAIN, abs=0.015)
    # The outline loses about SENSOR_EDGE_LOSS of its pixels (holes add a little to that);
    # the inside loses only to holes of radius 1 or 2, a few per frame.
    outline = np.zeros((50, 60), bool)
    outline[10:40, [20, 29]] = outline[[10, 39], 20:30] = True
    lost = (rough == 0) & (depth > 0)
    assert SENSOR_EDGE_LOSS < lost[:, outline].mean() < SENSOR_EDGE_LOSS + 0.05
    inside_lost = lost[:, 11:39, 21:29].reshape(400, -1).sum(axis=1)
    assert 0 < inside_lost.mean() < 20 and (inside_lost == 0).any()
    assert np.isin(rough[depth > 0], np.float32([0, 3.0, 3.2])).all()


def test_encodings():
    depth = np.array([[0.0, DEPTH_NEAR, DEPTH_FAR, 2.0, 2.0 + 0.0079]], np.float32)
    levels = encode_depth(depth, "paper8bit") * 255
    np.testing.assert_allclose(levels[0, :3], [0, 1, 255])
    assert levels[0, 4] - levels[0, 3] in (0, 1)  # about 1.6 cm per step
    assert (DEPTH_FAR - DEPTH_NEAR) / 254 == pytest.approx(0.0157, abs=1e-4)
    np.testing.assert_allclose(encode_depth(depth, "float")[0], depth[0] / DEPTH_FAR)
    invalid = np.array([[np.nan, -1.0, 0.0, 3.0]], np.float32)  # anything not positive: no return
    for mode in ("float", "paper8bit"):
        encoded = encode_depth(invalid, mode)
        np.testing.assert_array_equal(encoded[0, :3], 0.0)
        assert encoded[0, 3] > 0
        buffer = np.full((1, 1, 1, 4), 7.0, np.float32)  # the runtime writes into its input buffer
        pre = Preprocessor(mode, np.full((1, 4), 0.25, np.float32), np.zeros(33), np.ones(33))
        pre.inputs(invalid[None], out=buffer)  # one frame of 1 x 4 pixels
        np.testing.assert_array_equal(buffer, pre.inputs(invalid[None]))
        np.testing.assert_array_equal(buffer[0, 0], encoded - 0.25)
    with pytest.raises(ValueError, match="unknown input mode"):
        encode_depth(depth, "int4")


def test_normalisation_round_trip():
    rng = np.random.default_rng(1)
    joints, pixels = rng.normal(size=(50, 7, 3)), rng.uniform(0, 60, size=(50, 7, 2))
    joints[:, :, 2] += 3
    pre = Preprocessor.fit(np.zeros((50, 50, 60), np.float32), joints, pixels)
    targets = to_targets(joints, pixels)
    normalised = pre.normalise(targets)
    assert normalised.min() == pytest.approx(0) and normalised.max() == pytest.approx(1)
    np.testing.assert_allclose(pre.denormalise(normalised), targets, atol=1e-5)
    back = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    j3d, px = back.joints(normalised)
    np.testing.assert_allclose(j3d, joints, atol=1e-5)
    np.testing.assert_allclose(px[:, 1:], pixels[:, 1:], atol=1e-4)
    np.testing.assert_allclose(px[:, 0], CAM.project(joints[:, 0]), atol=1e-3)


def test_augmented_shift_moves_image_and_truth_together():
    depth = np.zeros((40, 50, 60), np.float32)
    depth[:, 20:30, 25:35] = 2.5
    joints = np.tile(CAM.back_project(30.0, 25.0, 2.6), (40, 7, 1)).astype(np.float32)
    shifted, moved, pixels = shift_frames(depth, joints, np.random.default_rng(0))
    for k in range(40):
        du, dv = np.round(pixels[k, 0] - [30.0, 25.0]).astype(int)
        assert abs(du) == 1 and abs(dv) == 1
        np.testing.assert_array_equal(shifted[k, 20 + dv:30 + dv, 25 + du:35 + du], 2.5)
        assert (shifted[k] > 0).sum() == 100
    np.testing.assert_allclose(CAM.project(moved), pixels, atol=1e-4)
    np.testing.assert_allclose(moved[..., 2], joints[..., 2])
    # edge fill: a frame touching the border keeps it covered after the shift
    full = np.ones((4, 50, 60), np.float32)
    assert (shift_frames(full, joints[:4], np.random.default_rng(1))[0] == 1).all()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real (tiny) pipeline: render, train two epochs, export (f32)."""
    from depth_pose_ros.learn.export import export
    from depth_pose_ros.learn.train import TrainConfig, train

    root = tmp_path_factory.mktemp("learning")
    data, run, model = root / "data", root / "run", root / "model"
    write_dataset(data, 700, seed=3, progress=False)
    cfg = TrainConfig(arch="dnn33", epochs=2, val_frames=60, batch_size=64)
    result = train(cfg, data, run, progress_bar=False)
    info = export(run, model, progress_bar=False)
    return data, run, model, result, info


@pytest.fixture(scope="module")
def int8_export(tiny_run, tmp_path_factory):
    """The tiny run exported with its data: the INT8 IR (3 fine-tuning steps) and the precision
    chosen by measurement. (model directory, model.json)"""
    from depth_pose_ros.learn.export import export
    data, run = tiny_run[:2]
    model = tmp_path_factory.mktemp("int8") / "model"
    return model, export(run, model, data=data, frames=60, int8_steps=3, progress_bar=False)


def test_tiny_training_writes_its_run(tiny_run):
    _, run, _, result, _ = tiny_run
    assert result["epochs"] == 2
    for name in ("checkpoint.pt", "best.pt", "history.csv", "loss_curve.png", "config.json"):
        assert (run / name).is_file(), name
    rows = (run / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch,minutes,lr,train_mae,val_mae")
    first, second = (float(r.split(",")[3]) for r in rows[1:])
    assert second < first  # training MAE falls


def test_training_resumes_from_its_checkpoint(tiny_run, tmp_path):
    import shutil

    from depth_pose_ros.learn.train import TrainConfig, train
    data, run, _, _, _ = tiny_run
    shutil.copytree(run, tmp_path / "run")
    cfg = TrainConfig(arch="dnn33", epochs=3, val_frames=60, batch_size=64)
    with pytest.raises(TrainConfigError, match="another configuration"):
        train(cfg, data, tmp_path / "run", progress_bar=False)
    # a checkpoint from before an option existed resumes as if it had the option's default
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    del checkpoint["config"]["sensor_artifacts"]
    torch.save(checkpoint, tmp_path / "run" / "checkpoint.pt")
    cfg = TrainConfig(arch="dnn33", epochs=2, val_frames=60, batch_size=64)
    assert train(cfg, data, tmp_path / "run", progress_bar=False)["epochs"] == 2  # nothing left
    with pytest.raises(TrainConfigError, match="another configuration"):
        train(TrainConfig(arch="dnn33", epochs=2, val_frames=60, batch_size=64,
                          sensor_artifacts=True), data, tmp_path / "run", progress_bar=False)


def _scripted_epochs(validate):
    """What _after_epoch needs around a scripted validation: (frames whose validate is
    `validate`, a fresh run's state, an epoch's training figures)."""
    from types import SimpleNamespace
    frames = SimpleNamespace(validate=validate, data_meta={}, pre=SimpleNamespace(to_dict=dict))
    state = {"epoch": 0, "elapsed": 0.0, "best_val_loss": float("inf"), "history": []}
    trained = {"train_loss": 0.0, "train_mae": 0.0, "samples_per_s": 1.0, "fresh_frames": 0}
    return frames, state, trained


@pytest.mark.parametrize("keep_best,kept_epoch", [("loss", 2), ("ap", 3)])
def test_best_pt_keeps_the_epoch_of_the_chosen_validation_figure(keep_best, kept_epoch, tmp_path):
    """Validation figures that part (the loss lowest at epoch 2, AP highest at epoch 3): best.pt
    holds the epoch that keep_best names, and the loss's gain (the paper's stopping rule) is
    the loss's either way."""
    from depth_pose_ros.learn.train import TrainConfig, _after_epoch, best_epoch, train
    figures = iter([(-0.50, 0.1, 0.50, 0.4), (-0.60, 0.1, 0.40, 0.3), (-0.55, 0.1, 0.60, 0.5)])
    frames, state, trained = _scripted_epochs(lambda *_: next(figures))
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    gains = []
    for _ in range(3):
        state["epoch"] += 1
        gains.append(_after_epoch(TrainConfig(keep_best=keep_best), model, optimizer, frames,
                                  None, "cpu", state, tmp_path, trained))
    assert torch.load(tmp_path / "best.pt", weights_only=False)["state"]["epoch"] == kept_epoch
    assert best_epoch(state["history"], keep_best) == kept_epoch
    assert state["best_val_loss"] == -0.60 and gains[1:] == pytest.approx([0.10, -0.05])
    with pytest.raises(TrainConfigError, match="keep_best one of"):
        train(TrainConfig(keep_best="hands"), tmp_path, tmp_path / "run", progress_bar=False)


def test_averaged_weights_are_judged_kept_and_resumed(tiny_run, tmp_path):
    """With average_weights, the weights' moving average is what validation judges and the
    checkpoints keep as their model; the trained weights are kept beside it, and both resume."""
    from depth_pose_ros.learn.train import (
        TrainConfig,
        _after_epoch,
        _resume,
        train,
        weight_average,
    )
    cfg = TrainConfig(average_weights=0.5)
    # validation's AP is the one weight of the model it is given
    frames, state, trained = _scripted_epochs(
        lambda model, *_: (-0.5, 0.1, model.weight.item(), 0.4))

    def linear():
        model = torch.nn.Linear(1, 1, bias=False)
        return model, torch.optim.SGD(model.parameters(), lr=0.1), weight_average(model, 0.5)

    def trained_to(weight, model, averaged):
        with torch.no_grad():
            model.weight.fill_(weight)
        averaged.update_parameters(model)

    model, optimizer, averaged = linear()
    trained_to(1.0, model, averaged)  # the first update copies
    trained_to(3.0, model, averaged)  # then (1 + 3) / 2
    state["epoch"] = 1
    _after_epoch(cfg, model, optimizer, frames, None, "cpu", state, tmp_path, trained, averaged)
    assert state["history"][0]["val_ap10_no_root"] == 2.0
    assert state["history"][0]["val_ap10_no_root_unaveraged"] == 3.0
    assert torch.load(tmp_path / "best.pt", weights_only=False)["model"]["weight"].item() == 2.0
    model, optimizer, averaged = linear()
    _resume(tmp_path / "checkpoint.pt", cfg, model, optimizer, averaged, main=False)
    assert model.weight.item() == 3.0 and averaged.module.weight.item() == 2.0
    trained_to(4.0, model, averaged)
    assert averaged.module.weight.item() == 3.0  # (2 + 4) / 2: the average goes on
    with pytest.raises(TrainConfigError, match="--average-weights"):
        train(TrainConfig(average_weights=1.0), tmp_path, tmp_path / "run", progress_bar=False)
    # A real run from the tiny run's weights: the loop averages (the average trails the trained
    # weights by about a step, where the start is an epoch behind) and both are kept.
    data, run = tiny_run[:2]
    train(TrainConfig(arch="dnn33", epochs=1, val_frames=60, batch_size=64, init_from=str(run),
                      average_weights=0.5), data, tmp_path / "averaged", progress_bar=False)
    saved = torch.load(tmp_path / "averaged" / "checkpoint.pt", weights_only=False)
    start = torch.load(run / "best.pt", weights_only=False)["model"]

    def away(weights):
        return sum((weights[k] - saved["unaveraged_model"][k]).float().norm().item()
                   for k in start if k.endswith("weight"))
    assert 0 < away(saved["model"]) < away(start) / 2
    assert "val_ap10_no_root_unaveraged" in saved["state"]["history"][0]


def test_warm_start_begins_from_the_other_runs_weights(tiny_run, tmp_path):
    import torch

    from depth_pose_ros.learn.train import TrainConfig, train
    data, run, _, _, _ = tiny_run
    # With a vanishing learning rate, one epoch leaves the warm-started weights where they were.
    cfg = TrainConfig(arch="dnn33", epochs=1, val_frames=60, batch_size=64, fast_lr=1e-12,
                      init_from=str(run))
    train(cfg, data, tmp_path / "warm", progress_bar=False)
    before = torch.load(run / "best.pt", weights_only=False)["model"]
    after = torch.load(tmp_path / "warm" / "best.pt", weights_only=False)["model"]
    for name, weights in before.items():
        torch.testing.assert_close(after[name], weights, rtol=0, atol=1e-6)
    saved = torch.load(tmp_path / "warm" / "checkpoint.pt", weights_only=False)
    assert saved["config"]["init_from"] == str(run)
    with pytest.raises(ValueError, match="init-from"):
        train(TrainConfig(arch="dnn33", epochs=1, val_frames=60, batch_size=64,
                          input_mode="paper8bit", init_from=str(run)),
              data, tmp_path / "other", progress_bar=False)


def test_openvino_matches_torch(tiny_run):
    from depth_pose_ros.learn.checkpoints import load_run
    from depth_pose_ros.runtime.estimator import PoseEstimator
    data, run, model_dir, _, _ = tiny_run
    net, checkpoint = load_run(run)
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])
    depth = np.load(data / "depth.npy")[:16].astype(np.float32) / 1000
    with torch.inference_mode():
        expected = pre.joints(net(torch.from_numpy(pre.inputs(depth))).numpy())
    # one pass each: the same function as the PyTorch model's (mirror averaging: test_shipped_model)
    def estimate(precision):
        return PoseEstimator.load(model_dir, precision=precision,
                                  mirror_average=False).estimate_batch(depth)
    got = estimate("f32")
    np.testing.assert_allclose(got[0], expected[0], atol=1e-4)
    np.testing.assert_allclose(got[1], expected[1], atol=1e-3)
    bf16 = estimate("bf16")
    np.testing.assert_allclose(bf16[0], expected[0], atol=0.05)  # bf16 keeps ~3 digits


def test_int8_and_the_measured_choice_of_precision(tiny_run, int8_export):
    from depth_pose_ros.learn.checkpoints import load_run
    from depth_pose_ros.runtime.estimator import PoseEstimator
    data, run = tiny_run[:2]
    model_dir, info = int8_export
    net, checkpoint = load_run(run)
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])
    depth = np.load(data / "depth.npy")[:16].astype(np.float32) / 1000
    with torch.inference_mode():
        expected = pre.joints(net(torch.from_numpy(pre.inputs(depth))).numpy())
    int8 = PoseEstimator.load(model_dir, precision="int8",
                              mirror_average=False).estimate_batch(depth)
    assert np.median(np.abs(int8[0] - expected[0])) < 0.1
    check = info["precision_check"]
    assert check["max_abs_diff_to_torch_m"]["f32"] < 1e-4  # metres
    assert check["calibration_frames"] > 0 and set(check["median_error_m"]) >= set(PRECISIONS)
    chosen = info["inference_precision"]
    assert check["median_error_m"][chosen] - check["median_error_m"]["f32"] <= 0.005
    assert check["ap10_no_root"]["f32"] - check["ap10_no_root"][chosen] <= 0.005


def test_int8_keeps_the_first_and_last_layers_in_float(int8_export):
    import openvino as ov
    model_dir = int8_export[0]
    ops = ov.Core().read_model(model_dir / "model_int8.xml").get_ordered_ops()
    weighted = [op for op in ops if op.get_type_name() in ("Convolution", "MatMul")]

    def quantized_input(op):  # NNCF puts a FakeQuantize in front of an INT8 layer's input,
        source = op.input_value(0).get_node()  # or of the pooling / reshape before it
        while source.get_type_name() in ("MaxPool", "Reshape"):
            source = source.input_value(0).get_node()
        return source.get_type_name() == "FakeQuantize"
    assert [quantized_input(op) for op in weighted] == [False, True, True, False]


@pytest.mark.slow
def test_int8_finetuning_lowers_the_int8_models_error(tiny_run, tmp_path):
    import openvino as ov
    import torch.nn.functional as F

    from depth_pose_ros.learn.checkpoints import load_run
    from depth_pose_ros.learn.export import quantize_int8
    data, run, _, _, _ = tiny_run
    net, checkpoint = load_run(run)
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])
    depth = np.load(data / "depth.npy")[:128].astype(np.float32) / 1000
    joints, pixels = np.load(data / "joints3d.npy")[:128], np.load(data / "pixels.npy")[:128]
    x, y = pre.inputs(depth), pre.normalise(to_targets(joints, pixels))

    def int8_loss(steps):
        path = tmp_path / f"int8_{steps}.xml"
        quantize_int8(net, x[:32], path, [(x, y)] * steps, lr=1e-3)
        out = ov.Core().compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})([x])[0]
        return F.l1_loss(torch.from_numpy(out), torch.from_numpy(y)).item()
    assert int8_loss(30) < 0.9 * int8_loss(0)
    with torch.inference_mode():  # the float model is left as it was
        np.testing.assert_allclose(net(torch.from_numpy(x[:4])).numpy(),
                                   load_run(run)[0](torch.from_numpy(x[:4])).numpy())

@pytest.mark.slow
def test_int8_steps_leave_the_f32_reference_as_it_was(tiny_run, int8_export, tmp_path):
    """Calibration, fine-tuning and the validation noise draw from separate streams: the INT8
    fine-tuning's length changes the INT8 model, not what f32 and PyTorch are measured on."""
    from depth_pose_ros.learn.export import export
    data, run = tiny_run[:2]
    info = int8_export[1]  # exported with int8_steps=3
    again = export(run, tmp_path / "model", data=data, frames=60, int8_steps=0,
                   progress_bar=False)["precision_check"]
    before = info["precision_check"]
    for precision in ("torch_f32", "f32"):
        assert again["median_error_m"][precision] == before["median_error_m"][precision]
    assert again["int8_finetune"]["steps"] == 0 and before["int8_finetune"]["steps"] == 3


def test_the_runtime_imports_only_the_runtime(tiny_run):
    _, _, model_dir, _, _ = tiny_run
    probe = textwrap.dedent(f"""
        import sys
        import numpy as np
        from depth_pose_ros.runtime.estimator import PoseEstimator
        pose = PoseEstimator.load({str(model_dir)!r}).estimate_virtual(np.zeros((50, 60), np.float32))
        assert pose.joints3d.shape == (7, 3) and pose.pixels.shape == (7, 2), pose
        assert pose.names[0] == "root"
        assert "torch" not in sys.modules, "the runtime imported torch"
        # The runtime's layer (issue 17): the pipeline and the tracker load only these.
        import depth_pose_ros.runtime.pipeline, depth_pose_ros.runtime.tracking
        runtime = {{"camera", "joints", "depth_image", "distortion", "runtime"}}
        loaded = {{m.split(".")[1] for m in sys.modules if m.startswith("depth_pose_ros.")}}
        assert loaded <= runtime, f"the runtime imported {{sorted(loaded - runtime)}}"
        assert not {{"torch", "rclpy", "matplotlib"}} & set(sys.modules)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_evaluate_writes_the_report(tiny_run, tmp_path):
    import shutil

    from depth_pose_ros.learn.evaluate import evaluate, record_in_model
    data, _, model_dir, _, _ = tiny_run
    model_dir = Path(shutil.copytree(model_dir, tmp_path / "model"))
    for augmented in (False, True):
        out = tmp_path / f"report{augmented}"
        metrics = evaluate(model_dir, data, out, augmented=augmented, sensor_artifacts=augmented)
        saved = json.loads((out / "metrics.json").read_text())
        assert saved["n_frames"] == 280  # the last 40 % of 700
        for key in ("ap10", "ap10_mean", "ap10_mean_no_root", "median_error_m"):
            assert key in saved
        assert set(saved["ap10"]) == set(metrics["median_error_m"]) and len(saved["ap10"]) == 7
        assert saved["noise_sigma_m"] == (0.00625 if augmented else 0.01875)
        report = (out / "report.md").read_text()
        for figure in ("fig5_axis_errors.png", "fig6_pixel_errors.png", "fig7_distance_errors.png",
                       "fig8_best_worst.png", "fig9_ap10.png"):
            assert (out / figure).stat().st_size > 5000 and figure in report
        record_in_model(model_dir, metrics)
    recorded = json.loads((model_dir / "model.json").read_text())["metrics"]
    assert set(recorded) == {"test", "test_augmented_sensor_artifacts"}
    assert recorded["test_augmented_sensor_artifacts"]["ap10_mean"] == metrics["ap10_mean"]
    assert "sensor artifacts" in report


def test_missing_model_is_a_clear_error(tmp_path):
    from depth_pose_ros.runtime.estimator import ModelError, PoseEstimator
    with pytest.raises(ModelError, match="model.json is missing"):
        PoseEstimator.load(tmp_path)
    result = subprocess.run([str(Path(sys.executable).parent / "depth-pose"), "export",
                             str(tmp_path), "--out", str(tmp_path / "m")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "best.pt not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_model_is_one_line_naming_what_is_wrong(tmp_path):
    """Weights cut short, an IR that is not XML, a model.json without its joints: each is a
    ModelError of one line, and the CLI says it in one line with exit status 2."""
    import shutil

    from depth_pose_ros.runtime.estimator import ModelError, PoseEstimator, default_model_dir
    shipped = default_model_dir()
    cases = {"weights": ("model.bin", (shipped / "model.bin").read_bytes()[:1000]),
             "xml": ("model.xml", b"<net garbage"),
             "json": ("model.json", json.dumps({k: v for k, v in json.loads(
                 (shipped / "model.json").read_text()).items() if k != "joint_names"}).encode())}
    for case, (name, content) in cases.items():
        damaged = tmp_path / case
        shutil.copytree(shipped, damaged)
        (damaged / name).write_bytes(content)
        with pytest.raises(ModelError) as error:
            PoseEstimator.load(damaged)
        assert str(error.value).startswith(f"cannot read the model in {damaged}")
        assert "\n" not in str(error.value), str(error.value)
    np.save(tmp_path / "frame.npy", np.zeros((48, 64), np.uint16))
    result = subprocess.run([str(Path(sys.executable).parent / "depth-pose"), "estimate",
                             str(tmp_path / "frame.npy"), "--fx", "50", "--model",
                             str(tmp_path / "weights")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"depth-pose: cannot read the model in {tmp_path / 'weights'}: "
        "Incorrect weights in bin file!")


def test_learning_rate_schedules():
    """The paper's constant rate; the fast recipe's warm-up to its peak, then a cosine down to
    2 % of it at the end of the run (and no further)."""
    from depth_pose_ros.learn.train import TrainConfig, learning_rate
    paper, fast = TrainConfig(recipe="paper"), TrainConfig(recipe="fast", fast_lr=1e-3)
    assert learning_rate(paper, 0.0) == learning_rate(paper, 0.7) == paper.paper_lr
    assert learning_rate(fast, 0.0) == 0.0
    assert learning_rate(fast, fast.fast_warmup / 2) == pytest.approx(0.5e-3)
    assert learning_rate(fast, fast.fast_warmup) == pytest.approx(1e-3)
    middle = fast.fast_warmup + (1 - fast.fast_warmup) / 2
    assert learning_rate(fast, middle) == pytest.approx(1e-3 * (0.02 + 0.98 * 0.5))
    assert learning_rate(fast, 1.0) == learning_rate(fast, 1.5) == pytest.approx(2e-5)
    rates = [learning_rate(fast, p) for p in np.linspace(fast.fast_warmup, 1.0, 50)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_paper_recipe_stops_when_validation_stops_improving(tiny_run, tmp_path):
    from depth_pose_ros.learn.train import TrainConfig, train
    data = tiny_run[0]
    # Any improvement below 1e9 is too small: the second epoch is the last.
    cfg = TrainConfig(arch="mlp", recipe="paper", epochs=5, val_frames=60, batch_size=64,
                      paper_min_improvement=1e9)
    result = train(cfg, data, tmp_path / "paper", progress_bar=False)
    assert result["epochs"] == 2
    assert result["stop_reason"] == "validation loss improved less than the threshold"


def test_evaluate_runs_a_training_run_in_pytorch_like_its_export(tiny_run, tmp_path):
    from depth_pose_ros.learn.evaluate import evaluate, record_in_model
    data, run, model, _, _ = tiny_run
    in_torch = evaluate(run, data, tmp_path / "torch", max_frames=200)
    exported = evaluate(model, data, tmp_path / "openvino", max_frames=200)
    assert "PyTorch f32" in in_torch["model_label"] and "OpenVINO" in exported["model_label"]
    assert in_torch["n_frames"] == exported["n_frames"] == 200
    for joint, median in in_torch["median_error_m"].items():  # bf16 against f32
        assert median == pytest.approx(exported["median_error_m"][joint], rel=0.05, abs=0.005)


def test_mirror_equals_rendering_the_mirrored_scene():
    from depth_pose_ros.learn.augment import mirror
    from depth_pose_ros.synth.generate import sample_bodies_in_view
    from depth_pose_ros.synth.render import render_depth
    bodies = sample_bodies_in_view(np.random.default_rng(4), 6, CAM)
    reflect = np.broadcast_to(np.diag([-1.0, 1.0, 1.0]), (6, 3, 3))
    mirrored_scene = render_depth(CAM, bodies.transformed(reflect, np.zeros((6, 3))))
    depth, joints, pixels = mirror(render_depth(CAM, bodies), bodies.joints.astype(np.float32))
    np.testing.assert_allclose(depth, mirrored_scene, atol=1e-4)
    # the person's right hand becomes the left one, on the other side of the image
    np.testing.assert_allclose(joints[:, 6], bodies.joints[:, 3] * [-1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(pixels[:, 6, 0], 59 - CAM.project(bodies.joints[:, 3])[:, 0],
                               atol=1e-4)


def test_training_shifts_keep_truth_on_the_body():
    from depth_pose_ros.learn.augment import shift_images
    from depth_pose_ros.synth.generate import generate
    scenes = generate(np.random.default_rng(0), 100)
    du, dv = np.random.default_rng(1).integers(-2, 3, (2, 100))
    depth, joints, pixels = shift_images(scenes.depth, scenes.joints3d, du, dv, "zero")
    u, v = np.round(pixels[:, 0]).astype(int).T  # the root (mid-hip) stays on the pelvis
    assert (depth[np.arange(100), v, u] > 0).all()
    np.testing.assert_allclose(pixels, scenes.pixels + np.stack([du, dv], -1)[:, None], atol=1e-3)
    assert (depth > 0).sum() <= (scenes.depth > 0).sum()  # zero fill: nothing invented


def test_training_shifts_follow_each_frames_zoom():
    """synth --zoom frames: each frame's camera has its own focal length; the shifted truth
    still lands on the shifted picture."""
    from depth_pose_ros.learn.augment import shift_images
    from depth_pose_ros.synth.wide import WideConfig, generate_wide
    scenes = generate_wide(np.random.default_rng(2), 60, WideConfig(room=False, sensors=False,
                                                                    zoom_reference=2.2))
    assert scenes.zoom.min() < 0.8 and scenes.zoom.max() > 1.5
    du, dv = np.random.default_rng(1).integers(-2, 3, (2, 60))
    depth, joints, pixels = shift_images(scenes.depth, scenes.joints3d, du, dv, "zero",
                                         zoom=scenes.zoom)
    np.testing.assert_allclose(pixels, scenes.pixels + np.stack([du, dv], -1)[:, None], atol=1e-3)
    for i in range(60):  # each joint moved to the point its zoomed camera sees at the new pixel
        np.testing.assert_allclose(CAM.zoomed(float(scenes.zoom[i])).project(
            joints[i].astype(np.float64)), pixels[i], atol=1e-3)
    np.testing.assert_allclose(joints[..., 2], scenes.joints3d[..., 2])


def test_sensor_artifacts_reach_half_the_training_frames():
    from depth_pose_ros.learn.augment import training_batch
    depth = np.zeros((200, 50, 60), np.float32)
    depth[:, 10:40, 20:30] = 3.0
    rng = np.random.default_rng(1)  # targets that vary, so that their ranges are not zero
    joints = CAM.back_project(rng.uniform(20, 30, (200, 7)), rng.uniform(20, 30, (200, 7)),
                              rng.uniform(2.9, 3.1, (200, 7))).astype(np.float32)
    pre = Preprocessor.fit(depth, joints, CAM.project(joints))
    inputs = {}
    for sensor in (False, True):
        inputs[sensor], _ = training_batch(pre, depth.copy(), joints, CAM.project(joints), 0.0,
                                           False, np.random.default_rng(0), sensor)
    changed = (inputs[True] != inputs[False]).any(axis=(1, 2, 3))
    assert 0.4 < changed.mean() < 0.6


def test_augmented_training_with_the_joint_loss_runs(tiny_run, tmp_path):
    import csv

    from depth_pose_ros.learn.train import TrainConfig, train
    data = tiny_run[0]
    cfg = TrainConfig(arch="mlp", epochs=1, val_frames=60, batch_size=64, augment=True,
                      sensor_artifacts=True, loss="joints")
    result = train(cfg, data, tmp_path / "aug", progress_bar=False)
    assert result["epochs"] == 1 and np.isfinite(result["best_val_loss"])
    row = next(csv.DictReader(open(tmp_path / "aug" / "history.csv")))
    # the loss (metres) is recorded beside the paper's normalised MAE, and differs from it
    assert float(row["val_loss"]) == pytest.approx(result["best_val_loss"])
    assert float(row["val_loss"]) != pytest.approx(float(row["val_mae"]), rel=0.01)
    with pytest.raises(TrainConfigError, match="loss one of"):
        train(TrainConfig(arch="mlp", epochs=1, val_frames=60, loss="l2"), data,
              tmp_path / "bad", progress_bar=False)


def test_joint_loss_on_hand_computed_cases():
    from depth_pose_ros.learn.losses import PIXEL_WEIGHT, training_loss
    target_min, target_max = np.zeros(33, np.float32), np.full(33, 2.0, np.float32)
    loss = training_loss("joints", target_min, target_max)
    targets = torch.full((4, 33), 0.5)

    def loss_with(index, normalised_error):
        outputs = targets.clone()
        outputs[:, index] += normalised_error
        return loss(outputs, targets).item()

    floor = loss_with(0, 0.0)  # the 1 mm that keeps the gradient finite
    assert floor == pytest.approx(1e-3)
    # root x off by 0.1 m (0.05 of its 2 m range): every joint, the root's too, is 0.1 m off
    assert loss_with(0, 0.05) == pytest.approx(0.1, abs=1e-4)
    # one hand (the third relative joint) off by (3, 4, 0) cm: 5 cm on one joint of seven
    hand = slice(3 + 3 * 2, 3 + 3 * 2 + 2)
    assert loss_with(hand, torch.tensor([0.015, 0.02])) == pytest.approx(
        0.05 / 7 + floor * 6 / 7, abs=1e-4)
    # a pixel output off by 1 pixel (0.5 of its range): PIXEL_WEIGHT m over the 12 pixel outputs
    assert loss_with(21, 0.5) - floor == pytest.approx(PIXEL_WEIGHT / 12, abs=1e-5)
    outputs = targets + torch.linspace(-0.2, 0.2, 33)
    mae = training_loss("mae", target_min, target_max)
    assert mae(outputs, targets).item() == pytest.approx(
        torch.nn.functional.l1_loss(outputs, targets).item())
    # With error scales, the likelihood of the detached 3D error is added at its weight.
    from depth_pose_ros.learn.losses import ERROR_SCALE_WEIGHT, ERROR_SHAPE
    with_scales = training_loss("joints", target_min, target_max, error_scales=True)
    log_b = np.log(0.05)
    scaled = torch.cat([targets, torch.full((4, 7), log_b)], dim=1)
    distance = 1e-3  # every joint exact, but for the 1 mm floor
    assert with_scales(scaled, targets).item() == pytest.approx(
        floor + ERROR_SCALE_WEIGHT * (distance / 0.05 + ERROR_SHAPE * log_b), abs=1e-4)
    with pytest.raises(ValueError, match="loss must be one of"):
        training_loss("l2", target_min, target_max)


def test_warm_start_into_another_world_with_error_scales_and_their_round_trip(tiny_run, tmp_path):
    """From the paper world's run into wide-world data: the rescaled output layer predicts
    what the initial model predicted; the new error scales go through export to the runtime,
    and so does the data's zoom (synth --zoom), which evaluate then asks of its test data."""
    from depth_pose_ros.learn.checkpoints import load_initial, load_run
    from depth_pose_ros.learn.export import export
    from depth_pose_ros.learn.train import TrainConfig, train, warm_start_from
    from depth_pose_ros.runtime.estimator import PoseEstimator
    from depth_pose_ros.synth.wide import WideConfig

    from depth_pose_ros.learn.evaluate import evaluate, record_in_model
    from depth_pose_ros.synth.dataset import DatasetError

    _, run, paper_model, _, _ = tiny_run
    wide = tmp_path / "wide"
    write_dataset(wide, 400, seed=9, config=WideConfig(zoom_reference=2.2), progress=False)
    initial = load_initial(run)
    cfg = TrainConfig(arch="dnn33", epochs=1, val_frames=60, batch_size=64, loss="joints",
                      error_scales=True, init_from=str(run), train_fraction=0.8)
    train(cfg, wide, tmp_path / "run", progress_bar=False)
    net, checkpoint = load_run(tmp_path / "run")
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])
    old_pre = initial["preprocessor"]
    assert pre.to_dict() != old_pre.to_dict()  # other target ranges
    np.testing.assert_array_equal(pre.mean_image, old_pre.mean_image)  # the same input
    # The rescaling alone (before any step) keeps the predictions.
    start = build_model("dnn33", error_scales=True).eval()
    start.load_state_dict(warm_start_from(initial, pre, error_scales=True))
    old = build_model("dnn33").eval()
    old.load_state_dict(initial["model"])
    depth = np.load(wide / "depth.npy")[:16].astype(np.float32) / 1000
    x = torch.from_numpy(pre.inputs(depth))
    with torch.inference_mode():
        np.testing.assert_allclose(pre.joints(start(x).numpy())[0],
                                   old_pre.joints(old(x).numpy())[0], atol=1e-4)
        outputs = net(x).numpy()
    assert outputs.shape == (16, 40)
    expected = pre.confidence(outputs)
    assert expected.shape == (16, 7) and ((expected > 0) & (expected < 1)).all()
    model_dir = tmp_path / "model"
    info = export(tmp_path / "run", model_dir)
    assert info["error_scales"] is True and info["zoom_reference_m"] == 2.2
    estimator = PoseEstimator.load(model_dir, precision="f32", mirror_average=False)
    assert estimator.zoom_reference == 2.2
    with pytest.raises(DatasetError, match="no zoom, this dataset has --zoom 2.2"):
        evaluate(paper_model, wide, tmp_path / "report", split="all")
    metrics = evaluate(model_dir, wide, tmp_path / "report", split="all", max_frames=64)
    # recorded apart from the unzoomed wide world's figures
    assert record_in_model(model_dir, metrics) == "wide3_zoom_all"  # version 3 since session 21
    joints, _, confidence = estimator.estimate_batch_with_confidence(depth)
    np.testing.assert_allclose(confidence, expected, atol=1e-4)
    np.testing.assert_allclose(joints, pre.joints(outputs)[0], atol=1e-4)
    pose = PoseEstimator.load(model_dir).estimate_virtual(depth[0])  # mirror-averaged
    assert pose.confidence.shape == (7,) and 0 < pose.confidence.min() <= pose.confidence.max() < 1


def test_error_confidence_is_the_gamma_cdf_at_10_cm():
    from depth_pose_ros.joints import error_confidence
    scales = np.array([0.01, 0.03, 0.1, 0.3])
    d = np.linspace(0.0, 0.1, 200001)[:, None]
    density = d ** 2 * np.exp(-d / scales) / (2 * scales ** 3)  # Gamma(3, b)
    np.testing.assert_allclose(error_confidence(np.log(scales)),
                               np.trapezoid(density, d[:, 0], axis=0), rtol=1e-6)


def test_breakdown_and_confidence_report_on_hand_computed_cases():
    from depth_pose_ros.learn.metrics import bin_names, breakdown, confidence_report
    dist = np.full((4, 7), 0.05)
    dist[2:, 3] = 0.3  # frames 2 and 3 miss the right hand
    groups = {"family": np.array(["a", "a", "b", "b"])}
    scores = breakdown(dist, groups)["family"]
    assert scores["a"]["ap10_hands"] == 1.0 and scores["b"]["ap10_hands"] == 0.5
    assert scores["b"]["ap10_no_root"] == pytest.approx(5 / 6) and scores["a"]["n"] == 2
    assert list(bin_names(np.array([0.0, 20.0, 179.0]), (0, 15, 45, 180.1), "deg")) == [
        "0-15 deg", "15-45 deg", "45-180 deg"]
    confidence = np.where(dist < 0.1, 0.9, 0.2)  # a model that knows which joints it missed
    report = confidence_report(dist, confidence)
    at = {t["threshold"]: t for t in report["thresholds"]}
    assert at[0.5]["ap10_kept"] == 1.0 and at[0.5]["kept"] == pytest.approx(22 / 24)
    assert at[0.1]["kept"] == 1.0 and at[0.1]["ap10_kept"] == pytest.approx(22 / 24)
    high = [r for r in report["reliability"] if r["n"] and r["predicted"] > 0.5][0]
    assert high["actual"] == 1.0 and report["expected_calibration_error"] == pytest.approx(
        (22 * 0.1 + 2 * 0.2) / 24)


def test_sides_swapped_finds_a_back_taken_for_a_front():
    from depth_pose_ros.learn.metrics import sides_swapped
    truth = np.zeros((2, 7, 3))
    truth[:, 1, 0], truth[:, 4, 0] = -0.2, 0.2  # right shoulder at -x, left at +x
    pred = truth.copy()
    pred[1, [1, 4]] = pred[1, [4, 1]]  # frame 1: right and left exchanged
    assert list(sides_swapped(pred, truth)) == [False, True]


def test_deepening_a_trained_dnn_keeps_its_predictions(tiny_run, tmp_path, capsys):
    """dnn33 -> dnn33d -> dnn33d4 -> dnn33d8 -> dnn33d12 (Net2DeeperNet): the new convolutions
    start as the identity, so each deeper start predicts exactly what DNN33 did; a training run
    starts from it and moves them; a DNN of another width cannot be deepened."""
    from depth_pose_ros.learn.checkpoints import load_initial
    from depth_pose_ros.learn.train import TrainConfig, deepen_dnn, train

    data, run, _, _, _ = tiny_run
    shallow = build_model("dnn33").eval()
    shallow.load_state_dict(load_initial(run)["model"])
    deep = build_model("dnn33d").eval()
    deep.load_state_dict(deepen_dnn(shallow.state_dict(), deep.state_dict(), "cannot"))
    deeper = build_model("dnn33d4").eval()
    deeper.load_state_dict(deepen_dnn(deep.state_dict(), deeper.state_dict(), "cannot"))
    deepest = build_model("dnn33d8").eval()
    deepest.load_state_dict(deepen_dnn(deeper.state_dict(), deepest.state_dict(), "cannot"))
    twelve = build_model("dnn33d12").eval()
    twelve.load_state_dict(deepen_dnn(deepest.state_dict(), twelve.state_dict(), "cannot"))
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(16, 1, 50, 60)).astype(np.float32))
    with torch.inference_mode():
        before = shallow(x)
        assert before.abs().max() > 0.1
        for grown in (deep, deeper, deepest, twelve):
            assert (grown(x) - before).abs().max() < 1e-5 * before.abs().max()
    with pytest.raises(ValueError, match="cannot"):
        deepen_dnn(build_model("dnn48w").state_dict(), deep.state_dict(), "cannot")
    with pytest.raises(ValueError, match="cannot"):
        deepen_dnn(build_model("mlp").state_dict(), deep.state_dict(), "cannot")
    # another width (dnn32d8 from a DNN33): a user's mistake, one line from the command line
    from depth_pose_ros.tools.cli import main
    assert main(["train", "--arch", "dnn32d8", "--data", str(data), "--out",
                 str(tmp_path / "narrower"), "--init-from", str(run), "--epochs", "1",
                 "--val-frames", "60", "--quiet"]) == 2
    assert "is a dnn33, which cannot become a dnn32d8" in capsys.readouterr().err
    cfg = TrainConfig(arch="dnn33d", epochs=1, val_frames=60, batch_size=64, init_from=str(run))
    train(cfg, data, tmp_path / "deepened", progress_bar=False)
    saved = torch.load(tmp_path / "deepened" / "best.pt", weights_only=False)
    assert saved["arch"] == "dnn33d" and saved["config"]["init_from"] == str(run)
    refinement = saved["model"]["features.6.weight"]
    identity = torch.zeros_like(refinement)
    identity[range(33), range(33), 1, 1] = 1.0
    assert not torch.equal(refinement, identity)  # trained, not left at the start


def test_narrowing_a_dnn_drops_the_filters_least_relied_on(tiny_run, tmp_path):
    """dnn33d8 -> dnn32d8 (train.narrow_dnn): in each 33-wide layer one filter always outputs
    zero, in the last one instead the same 0.7 everywhere; those are the ones dropped, the
    constant one taken into the next layer's bias, so the narrow network predicts what the wide
    one did. A wider target fails; a dnn32d8 run starts from a trained dnn33d8."""
    from depth_pose_ros.learn.checkpoints import load_initial
    from depth_pose_ros.learn.train import (TrainConfig, deepen_dnn, narrow_dnn, reader_inputs,
                                            train)

    data, run, _, _, _ = tiny_run
    shallow = build_model("dnn33")
    shallow.load_state_dict(load_initial(run)["model"])
    wide, narrow = build_model("dnn33d8").eval(), build_model("dnn32d8").eval()
    state = deepen_dnn(shallow.state_dict(), wide.state_dict(), "cannot")
    generator = torch.Generator().manual_seed(0)
    layers = [key[:-len(".weight")] for key in wide.state_dict()  # in the network's order
              if key.startswith("features.") and key.endswith(".weight")][1:]  # the 33-wide ones
    for n, layer in enumerate(layers):
        weight, bias = state[f"{layer}.weight"], state[f"{layer}.bias"]
        weight += 0.05 * torch.randn(weight.shape, generator=generator)  # filters mix
        silent = 7 * n % 33
        weight[silent] = 0.0
        bias[silent] = 0.7 if layer == layers[-1] else -1.0
    wide.load_state_dict(state)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(64, 1, 50, 60)).astype(np.float32))
    narrow.load_state_dict(narrow_dnn(state, narrow.state_dict(), reader_inputs(wide, x), "cannot"))
    with torch.inference_mode():
        before, after = wide(x), narrow(x)
    assert (after - before).abs().max() < 1e-4 * before.abs().max()
    with pytest.raises(ValueError, match="cannot"):
        narrow_dnn(narrow.state_dict(), state, reader_inputs(narrow, x), "cannot")
    train(TrainConfig(arch="dnn33d8", epochs=1, val_frames=60, batch_size=64, init_from=str(run)),
          data, tmp_path / "d8", progress_bar=False)
    train(TrainConfig(arch="dnn32d8", epochs=1, val_frames=60, batch_size=64,
                      init_from=str(tmp_path / "d8")), data, tmp_path / "narrowed",
          progress_bar=False)
    saved = torch.load(tmp_path / "narrowed" / "best.pt", weights_only=False)
    assert saved["arch"] == "dnn32d8" and saved["model"]["features.3.weight"].shape[0] == 32


def test_widening_a_trained_dnn_keeps_its_predictions(tiny_run, tmp_path):
    """dnn33 -> dnn48w (Net2WiderNet): the wider start predicts what the narrow model did, up to
    the copies' small symmetry-breaking noise; a training run starts from it; narrowing fails."""
    from depth_pose_ros.learn.checkpoints import load_initial
    from depth_pose_ros.learn.train import TrainConfig, train, widen_dnn

    data, run, _, _, _ = tiny_run
    narrow = build_model("dnn33").eval()
    narrow.load_state_dict(load_initial(run)["model"])
    wide = build_model("dnn48w").eval()
    wide.load_state_dict(widen_dnn(narrow.state_dict(), wide.state_dict(),
                                   torch.Generator().manual_seed(0), "cannot"))
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(16, 1, 50, 60)).astype(np.float32))
    with torch.inference_mode():
        before, after = narrow(x), wide(x)
    assert count_weights(wide) > 2 * count_weights(narrow)
    assert (after - before).abs().max() < 0.02 * before.abs().max()
    # The copies differ from every original (the noise), so training can pull them apart.
    conv = wide.state_dict()["features.3.weight"]
    assert not any(torch.equal(copy, original) for copy in conv[33:] for original in conv[:33])
    with pytest.raises(ValueError, match="cannot"):
        widen_dnn(wide.state_dict(), narrow.state_dict(), torch.Generator(), "cannot")
    # A deep DNN's hidden layer widens alone (dnn32d8 -> dnn32d8w); its convolutions stay as
    # they were.
    deep, deep_wide = build_model("dnn32d8", True).eval(), build_model("dnn32d8w", True).eval()
    deep_wide.load_state_dict(widen_dnn(deep.state_dict(), deep_wide.state_dict(),
                                        torch.Generator().manual_seed(0), "cannot"))
    with torch.inference_mode():
        before, after = deep(x), deep_wide(x)
    assert deep_wide.state_dict()["head.1.weight"].shape[0] == 1000
    assert (after - before).abs().max() < 0.02 * before.abs().max()
    assert all(torch.equal(deep.state_dict()[k], deep_wide.state_dict()[k])
               for k in deep.state_dict() if k.startswith("features"))
    with pytest.raises(ValueError, match="cannot become a mlp"):
        train(TrainConfig(arch="mlp", epochs=1, val_frames=60, batch_size=64, init_from=str(run)),
              data, tmp_path / "mlp", progress_bar=False)
    cfg = TrainConfig(arch="dnn48w", epochs=1, val_frames=60, batch_size=64, fast_lr=1e-12,
                      init_from=str(run))
    train(cfg, data, tmp_path / "widened", progress_bar=False)
    saved = torch.load(tmp_path / "widened" / "best.pt", weights_only=False)
    assert saved["arch"] == "dnn48w" and saved["config"]["init_from"] == str(run)
