"""depth-pose bench: every engine on the same weights; the JSON keys tools read."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from depth_pose_ros.runtime.estimator import PRECISIONS, describe_precision

DEPTH_POSE = Path(sys.executable).parent / "depth-pose"


def test_weights_read_back_from_the_ir_reproduce_the_shipped_model(shipped_estimator):
    import torch

    from depth_pose_ros.learn.checkpoints import torch_from_ir

    model = torch_from_ir(shipped_estimator.model_dir, shipped_estimator.info["arch"],
                          bool(shipped_estimator.info.get("error_scales")))
    x = np.random.default_rng(0).normal(size=(4, 1, 50, 60)).astype(np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(x)).numpy()
    f32 = type(shipped_estimator)(shipped_estimator.model_dir, precision="f32")
    got = next(iter(f32._request.infer([x]).values()))
    np.testing.assert_allclose(got, expected, atol=1e-4)


@pytest.mark.slow
def test_bench_json_on_a_tiny_budget(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([str(DEPTH_POSE), "bench", "--seconds", "0.2", "--repeats", "1",
                             "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    numbers = json.loads(out.read_text())
    for model in ("dnn33", "mlp"):
        for engine in ("openvino", "openvino_f32", "torch", "onnxruntime"):
            entry = numbers[model][engine]
            assert {"b1_fps", "b1_p50_us", "b1_p99_us", "batch_fps"} <= set(entry)
            assert entry["b1_fps"] > 0 and entry["b1_p50_us"] > 0
    dnn33 = numbers["dnn33"]
    errors = [dnn33[e]["median_error_cm"] for e in ("openvino_f32", "torch", "onnxruntime")]
    assert max(errors) - min(errors) < 0.05  # the same f32 function on every engine
    assert max(errors) < 12, errors  # on frames of the model's own world, not another's
    # the shipped precision and the model's other precisions run too, with errors of their own
    others = [f"openvino_{p}" for p in PRECISIONS if p not in (numbers["precision"], "f32")]
    assert len(others) == len(PRECISIONS) - 2 and dnn33["openvino"]["median_error_cm"] > 0
    for other in others:
        assert dnn33[other]["median_error_cm"] > 0 and other not in numbers["mlp"]
    for engine in ("openvino", "openvino_f32", *others):  # OpenVINO's throughput streams
        assert dnn33[engine]["b1_in_flight_fps"] > 0 and dnn33[engine]["streams"] >= 1
    assert "b1_in_flight_fps" not in dnn33["torch"]
    assert numbers["pipeline"]["p50_us"] > 0
    assert "| dnn33 | torch |" in result.stdout


def test_speed_times_the_runtime_with_and_without_mirror_averaging():
    from depth_pose_ros.tools.speed import measure

    result = measure(None, seconds=0.3, repeats=1)
    assert "cores" in result["cpu"] and "bf16" in result["cpu"]
    # OpenVINO runs a bf16 model in bf16 only where the CPU has it natively; said, not assumed
    native = "native bf16 yes" in result["cpu"] and result["precision"] != "f32"
    assert result["arithmetic"] == ("bf16" if native else "f32")
    assert describe_precision(result["precision"], result["arithmetic"]).startswith(
        result["precision"])
    for name in ("estimate_virtual", "estimate_virtual_one_pass", "estimate_batch_4"):
        assert result[name]["fps"] > 0 and result[name]["p50_us"] > 0


def test_speed_against_times_the_models_in_turn_and_prints_each_ones_ratio(tmp_path):
    # what a ratio between two models rests on: both timed in one run, round and round
    from depth_pose_ros.runtime.estimator import default_model_dir

    out, models = tmp_path / "speed.json", default_model_dir().parent
    result = subprocess.run([str(DEPTH_POSE), "speed", "--seconds", "0.3", "--model",
                             str(models / "dnn33"), "--against", str(models / "dnn33d8"),
                             "--json", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rounds = json.loads(out.read_text())["rounds"]
    assert [[Path(r["model"]).name for r in results] for results in rounds] == \
        [["dnn33", "dnn33d8"]] * 2
    assert "AMX" in rounds[0][0]["cpu"]  # it changes a deeper network's ratio (BENCHMARKS.md)
    ratios = [results[1]["estimate_virtual"]["p50_us"] / results[0]["estimate_virtual"]["p50_us"]
              for results in rounds]
    assert result.stdout.splitlines()[-1] == \
        f"  {rounds[0][1]['model']}: {ratios[0]:.2f}x, {ratios[1]:.2f}x"
    # a wrong directory among them: one line, no traceback
    wrong = subprocess.run([str(DEPTH_POSE), "speed", "--against", "nowhere"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "nowhere" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1 and not wrong.stdout


def test_layout_speed_times_untrained_architectures_against_the_first():
    script = Path(__file__).resolve().parents[1] / "tools" / "layout_speed.py"
    result = subprocess.run([sys.executable, str(script), "dnn33", "dnn32d8", "--seconds", "0.2",
                             "--rounds", "2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "AMX" in lines[0] and len(lines) == 3
    for k, line in enumerate(lines[1:], start=1):
        reference, other = line.removeprefix(f"round {k}: ").split(", ")
        assert reference.startswith("dnn33 ") and reference.endswith(" 1.00x")
        name, us, _, ratio = other.split()
        assert name == "dnn32d8" and float(ratio[:-1]) > 0 and float(us) > 0
    wrong = subprocess.run([sys.executable, str(script), "dnn33", "dnn34"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "unknown architecture 'dnn34'" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_the_precision_is_described_with_the_arithmetic_the_cpu_runs():
    assert describe_precision("bf16", "bf16") == "bf16"
    assert describe_precision("f32", "f32") == "f32"
    assert describe_precision("bf16", "f32") == "bf16 run as f32 on this CPU"
    assert describe_precision("int8", "f32") == "int8, float layers as f32 on this CPU"
    assert describe_precision("int8", "bf16") == "int8"


def test_bench_people_tracked_steps_every_frame_and_scores_every_nth():
    """--tracked: each frame goes through the node's step (with everyone, and the person
    alone), scored every EVERY-th. One person: the two steps see the same frames and agree."""
    from depth_pose_ros.tools.bench_people import report, run

    result = run(people=1, seconds=1.0, every=5, progress=False, tracked=True)
    scored = result["ap10_no_root"]["1"]
    assert scored["frames"] == 6  # frames 0, 5, ..., 25 of 30
    assert scored["together"] == scored["alone"] and 0.0 <= scored["together"] <= 1.0
    assert scored["found_together"] == scored["found_alone"] == 1.0  # in view throughout
    assert result["frames_by_people_found"] == {"1": 60}  # 30 frames, stepped twice each
    assert "through the node's step" in report(result)


def test_bench_people_times_the_pipeline_with_one_blas_thread(blas_threads_in):
    """The scene's renderer runs between the timed calls: its BLAS threads must not be left
    spinning on the cores the network then needs (the 4-person frame timed 1.4x slower)."""
    from depth_pose_ros.tools import bench_people

    threads = blas_threads_in(bench_people.PosePipeline, "process_all")
    bench_people.run(people=1, seconds=0.2, every=5, progress=False)
    assert threads and all(t == {1} for t in threads)


def test_bench_people_one_pass_runs_the_estimator_without_mirror_averaging(monkeypatch):
    """--one-pass: what the node's mirror_average:=false saves and costs, said in the report."""
    from depth_pose_ros.tools import bench_people

    built = []
    load = bench_people.PoseEstimator.load

    def recording_load(*args, **kwargs):
        built.append(load(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(bench_people.PoseEstimator, "load", recording_load)
    result = bench_people.run(people=1, seconds=0.5, every=5, progress=False,
                              mirror_average=False)
    assert [estimator.mirror_average for estimator in built] == [False]
    assert result["mirror_average"] is False and result["ap10_no_root"]["1"]["frames"] == 3
    assert "one pass (no mirror averaging)" in bench_people.report(result)


def test_bench_people_wall_and_keep_walls_reach_the_scene_and_the_pipeline(tmp_path, capsys,
                                                                          monkeypatch):
    """--wall M moves the scene's back wall; --keep-walls is the node's remove_walls:=false."""
    import json

    from depth_pose_ros.tools import bench_people
    from depth_pose_ros.tools.cli import main

    out = tmp_path / "people.json"
    assert main(["bench-people", "--people", "1", "--seconds", "0.2", "--wall", "3.3",
                 "--keep-walls", "--quiet", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["wall_m"] == 3.3 and result["remove_walls"] is False
    assert "the back wall at 3.3 m (walls not removed)" in capsys.readouterr().out
    pipelines = []
    original = bench_people.PosePipeline.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pipelines.append(self)

    monkeypatch.setattr(bench_people.PosePipeline, "__init__", recording_init)
    bench_people.run(people=1, seconds=0.2, progress=False, wall=3.3)
    assert [p.person_filter.remove_walls for p in pipelines] == [True, True]  # both, alone


def test_bench_people_approach_follows_the_walker_with_a_pipeline_per_sequence(monkeypatch):
    """--approach: person 1 walks up to the camera (the others as without it), and a table
    by their distance follows them. Everyone together and each person alone have a pipeline
    of their own: a pipeline remembers the last frame's people, as the node's does; and each
    counted frame the walker alone goes through a fresh one (first seen there)."""
    from depth_pose_ros.synth.scenes import APPROACH_NEAREST_M, people_scene
    from depth_pose_ros.tools import bench_people

    walking, across = (people_scene(0, 2, 600, approach=approach) for approach in (True, False))
    distance = walking.people[0].joints[:, 0, 2]
    assert distance.min() == pytest.approx(APPROACH_NEAREST_M, abs=0.01) and distance.max() > 2
    np.testing.assert_allclose(walking.people[0].joints[:, 0, 0], 0.0, atol=1e-9)  # on the axis
    np.testing.assert_array_equal(walking.people[1].joints, across.people[1].joints)

    # frames by pipeline, keyed by the pipeline itself: held here, a fresh one thrown away by
    # the bench cannot free its id() for the next
    processed = {}
    process_all = bench_people.PosePipeline.process_all  # (process, the one-person case, too)

    def counted(self, *args, **kwargs):
        processed[self] = processed.get(self, 0) + 1
        return process_all(self, *args, **kwargs)

    monkeypatch.setattr(bench_people.PosePipeline, "process_all", counted)
    result = bench_people.run(people=2, seconds=1.0, every=5, progress=False, approach=True)
    # a fresh one per counted frame; together, 1 alone, 2 alone
    assert sorted(processed.values()) == [1] * 6 + [6, 6, 6]
    rows = result["approach"]
    assert sum(row["frames"] for row in rows) == 6
    assert [row["from_m"] for row in rows] == list(bench_people.APPROACH_BINS_M[:-1])
    for row in rows:
        for key in ("found_together", "found_alone", "ap10_in_view_together", "confident_alone",
                    "within_10cm_of_confident_alone", "found_first_seen_alone"):
            assert row[key] is None or 0.0 <= row[key] <= 1.0
    assert any(row["confident_alone"] for row in rows)  # the walker found, their joints rated
    assert any(row["found_first_seen_alone"] for row in rows)  # far off, found at once
    assert "person 1 walking up to the camera" in bench_people.report(result)


def test_bench_people_leave_walks_everyone_out_of_the_image_and_back():
    """--leave: people come into view at the image's sides; the tables say how often each is
    found on the frames where they are mostly visible."""
    from depth_pose_ros.synth.scenes import LEAVE_BEYOND_M, people_scene
    from depth_pose_ros.tools import bench_people

    for leave in (False, True):
        scene = people_scene(0, 2, 600, leave=leave)
        half_width = scene.camera.width / 2 / scene.camera.fx  # tan of half the field of view
        root = np.stack([person.joints[:, 0] for person in scene.people])
        beyond = np.abs(root[..., 0]) - half_width * root[..., 2]  # outside the image's side
        assert beyond.max() == pytest.approx(LEAVE_BEYOND_M if leave else -0.45, abs=0.02)
    result = bench_people.run(people=1, seconds=1.0, every=5, progress=False, leave=True)
    assert result["leave"] is True
    scored = result["ap10_no_root"]["1"]
    assert 0.0 <= scored["found_together"] <= 1.0 and 0.0 <= scored["found_alone"] <= 1.0
    assert "walking out of the image at its sides" in bench_people.report(result)
