"""The shipped models: models/dnn32d8w, the default (the wide world's DNN33, deepened by eight
convolutions, cut to 32 filters, its hidden layer 1000 wide, with confidence, zoomed to each
person), models/dnn32d8 (the same with 500, the default before), models/dnn33d8 (the same with
33 filters, the default in sessions 36 to 43), models/dnn33d12 (deepened by twelve, not the
default), models/dnn33d4 (deepened by four, the default before that), models/dnn33d (deepened
by two, earlier still), models/dnn33 (the same world's DNN33 as the paper lays it out) and
models/dnn33-paper, the paper's reproduction; each loads and does what its card says."""
import json

import numpy as np
import pytest

from depth_pose_ros.joints import HANDS, JOINT_NAMES
from depth_pose_ros.learn.augment import TEST_NOISE_SIGMA, add_depth_noise
from depth_pose_ros.learn.metrics import average_precision, joint_distances
from depth_pose_ros.runtime.encoding import mirror_joints
from depth_pose_ros.runtime.estimator import (
    PRECISIONS,
    STATIC_BATCH_MAX,
    PoseEstimator,
    default_model_dir,
    precision_cost,
)
from depth_pose_ros.synth.generate import generate
from depth_pose_ros.synth.wide import WideConfig, generate_wide


def test_the_default_model_json_carries_what_the_runtime_and_the_card_need():
    info = json.loads((default_model_dir() / "model.json").read_text())
    # DNN33 at 32 filters with eight 3x3 convolutions more and FC 1000 (dnn32d8w), plus one error
    # scale per joint (the confidence)
    assert info["arch"] == "dnn32d8w" and info["error_scales"] is True
    dnn32 = (25 * 20 + 20) + (25 * 20 * 32 + 32) + (32 * 195 * 1000 + 1000) + (1000 * 33 + 33)
    assert info["weights"] == dnn32 + 8 * (32 * 32 * 9 + 32) + 1000 * 7 + 7
    assert info["joint_names"] == list(JOINT_NAMES)
    assert info["camera"]["width"] == 60 and info["camera"]["height"] == 50
    assert info["zoom_reference_m"] == 2.2  # what makes the node zoom to each person
    pre = info["preprocessing"]
    assert pre["version"] == 1 and np.asarray(pre["mean_image"]).shape == (50, 60)
    assert info["inference_precision"] in PRECISIONS
    wide = info["metrics"]["wide2_zoom_all"]
    assert wide["n_frames"] == 20000 and wide["confidence"]["threshold"] == 0.5
    assert "family_frontal" in wide["breakdown"] and "yaw" in wide["breakdown"]
    assert (default_model_dir() / "MODEL.md").is_file() and (default_model_dir() / "real").is_dir()


def test_a_precision_chosen_by_hand_that_fell_short_at_export_is_named(shipped_estimator):
    check = {"median_error_m": {"f32": 0.060, "bf16": 0.062, "int8": 0.070},
             "ap10_no_root": {"f32": 0.700, "bf16": 0.697, "int8": 0.700}}
    assert precision_cost(check, "bf16") is None and precision_cost(check, "f32") is None
    assert precision_cost(check, "int8") == (
        "int8 measured a median joint error of 7.0 cm (AP@10cm 0.700) against f32's 6.0 cm "
        "(0.700) when this model was exported")
    check["median_error_m"]["int8"], check["ap10_no_root"]["int8"] = 0.061, 0.690  # AP alone
    assert precision_cost(check, "int8") is not None
    assert precision_cost({}, "int8") is None  # not measured (models exported without data)
    # The shipped deep models' INT8, not fine-tuned, measured far worse (model.json): a node
    # told to run it says so.
    assert shipped_estimator.precision_cost is None
    assert PoseEstimator.load(precision="int8").precision_cost.startswith("int8 measured")


def test_evaluate_names_the_arithmetic_this_cpu_runs(shipped_estimator):
    from depth_pose_ros.learn.evaluate import load_predictor
    # Without native bf16 (AVX2 only) the bf16 model runs in f32, and its figures may differ:
    # evaluate's reports say so, as the node and the benchmarks do.
    _, label = load_predictor(shipped_estimator.model_dir)
    assert f"(OpenVINO {shipped_estimator.describe_precision()}, mirror-averaged)" in label


def test_the_paper_model_json_is_the_reproductions(paper_estimator):
    paper_model = paper_estimator.model_dir
    info = json.loads((paper_model / "model.json").read_text())
    assert info["arch"] == "dnn33" and info["weights"] == 3_251_586
    assert not info.get("error_scales") and "zoom_reference_m" not in info
    assert info["joint_names"] == list(JOINT_NAMES)
    pre = info["preprocessing"]
    assert pre["version"] == 1 and len(pre["target_min"]) == len(pre["target_max"]) == 33
    assert info["training"]["data"] == {"count": 200000, "seed": 0, "generator_version": 1}
    assert info["inference_precision"] in PRECISIONS
    assert info["metrics"]["test"]["n_frames"] == 80000
    assert (paper_model / "MODEL.md").is_file()


def test_the_paper_model_estimates_fresh_synthetic_people(paper_estimator):
    # Frames from a seed the model never saw, with the test noise.
    scenes = generate(np.random.default_rng(424242), 300)
    depth = add_depth_noise(scenes.depth, TEST_NOISE_SIGMA, np.random.default_rng(1))
    estimator = PoseEstimator.load(paper_estimator.model_dir)  # fresh: its own static copies
    joints3d, pixels = estimator.estimate_batch(depth)
    ap = average_precision(joint_distances(joints3d, scenes.joints3d))
    # The card says 1.0 root, 1.0 shoulders, 0.86 over the non-root joints on 80,000 frames.
    assert ap[0] > 0.95 and ap[[1, 4]].min() > 0.9, ap
    assert np.delete(ap, 0).mean() > 0.7, ap
    # One frame at a time, and a few (the node's people), run copies compiled for their
    # static batch: the same numbers as the dynamic request of the 300.
    for k in range(5):
        pose = estimator.estimate_virtual(depth[k])
        np.testing.assert_allclose(pose.joints3d, joints3d[k], atol=1e-4)
        np.testing.assert_allclose(pose.pixels, pixels[k], atol=1e-3)
    for n in (2, 3, STATIC_BATCH_MAX):
        few3d, fewpx = estimator.estimate_batch(depth[10:10 + n])
        np.testing.assert_allclose(few3d, joints3d[10:10 + n], atol=1e-4)
        np.testing.assert_allclose(fewpx, pixels[10:10 + n], atol=1e-3)
    assert pose.names == JOINT_NAMES


def test_mirror_averaging_is_the_mean_of_both_views(shipped_estimator):
    scenes = generate_wide(np.random.default_rng(7), 40, WideConfig(zoom_reference=2.2))
    depth = add_depth_noise(scenes.depth, TEST_NOISE_SIGMA, np.random.default_rng(2))
    one_pass = PoseEstimator(shipped_estimator.model_dir, mirror_average=False)
    direct3d, direct_px = one_pass.estimate_batch(depth)
    mirrored3d, mirrored_px = one_pass.estimate_batch(depth[:, :, ::-1])
    back3d, back_px = mirror_joints(mirrored3d, mirrored_px)
    assert shipped_estimator.mirror_average  # the default
    joints3d, pixels = shipped_estimator.estimate_batch(depth)
    np.testing.assert_allclose(joints3d, (direct3d + back3d) / 2, atol=1e-4)
    np.testing.assert_allclose(pixels, (direct_px + back_px) / 2, atol=1e-3)
    # the two views differ (else averaging would be pointless), by centimetres, not decimetres
    assert 0.005 < np.median(np.abs(direct3d - back3d)) < 0.05
    pose = shipped_estimator.estimate_virtual(depth[3])  # the batch-of-two compiled copy
    np.testing.assert_allclose(pose.joints3d, joints3d[3], atol=1e-4)


# --- models/dnn33-wide: the real-world model in training (wide world, with confidence) ---------

WIDE_MODEL = default_model_dir().parent / "dnn33-wide"


def test_wide_model_json_records_its_world_its_confidence_and_both_test_sets():
    info = json.loads((WIDE_MODEL / "model.json").read_text())
    assert info["arch"] == "dnn33" and info["error_scales"] is True
    assert info["weights"] == 3_251_586 + 500 * 7 + 7  # seven more outputs: the error scales
    assert info["training"]["data"]["count"] == 160000
    # stage 2 of a chain that began from the paper model's weights (MODEL.md lists the stages)
    assert info["training"]["config"]["init_from"] == "models/dnn33-wide"
    wide = info["metrics"]["wide_all"]
    assert wide["n_frames"] == 20000 and "family_frontal" in wide["breakdown"]
    assert wide["confidence"]["threshold"] == 0.5
    assert info["metrics"]["test"]["n_frames"] == 80000  # and the paper's test set
    assert (WIDE_MODEL / "MODEL.md").is_file()


def test_the_centred_wide_model_records_its_world_and_chain():
    model = default_model_dir().parent / "dnn33-wide2"
    info = json.loads((model / "model.json").read_text())
    assert info["arch"] == "dnn33" and info["error_scales"] is True
    assert info["training"]["data"] == {"count": 160000, "seed": 0, "generator_version": 2}
    # stage 5, from the committed stage 4 (itself from stage 2, models/dnn33-wide)
    assert info["training"]["config"]["init_from"] == "models/dnn33-wide2"
    assert (model / "stage4" / "report-wide2" / "metrics.json").is_file()
    wide2 = info["metrics"]["wide2_all"]
    assert wide2["n_frames"] == 20000 and wide2["confidence"]["threshold"] == 0.5
    assert (model / "MODEL.md").is_file() and (model / "real").is_dir()


def test_the_default_model_records_its_chain():
    # stage 25 (models/dnn33d12, not the default): stage 24 on seeds 40 (15 % cut at the chest)
    # and 41, from stage 24 (its record in models/dnn33d12/stage24/), itself stage 23 on seeds
    # 38 (15 % cut at the chest) and 39, from stage 23 (its record in models/dnn33d12/stage23/),
    # itself stage 22 grown by four more convolutions, on seeds 36 (15 % cut at the chest) and 37;
    # stage 40 (models/dnn32d8w, the default): the committed stage 37 (its record in
    # models/dnn32d8w/stage37/) on 300,000 fresh frames, 80,000 wide at each of seeds 53, 58 and
    # 59 and the paper's world at seeds 54 (20,000) and 60 (40,000); stages 38 and 39 were not
    # committed (38 missed its rule; 39's run was lost);
    # stage 37: stage 36 (its record in models/dnn32d8w/stage36/;
    # its run was runs/s36n) on the same frames; stage 36: stage 35 (its record in
    # models/dnn32d8w/stage35/; its run was runs/s35n) on the same frames; stage 35: stage 32
    # widened (Net2WiderNet) on its frames again and fresh ones, 80,000 wide (seed 49) and 20,000 of the paper's world
    # (seed 50), then 80,000 wide with 40 % turned away (seed 51) and 20,000 more (seed 52);
    # stage 32 (models/dnn32d8, the default before): stage 30 (its record in
    # models/dnn32d8/stage30/; its run was runs/s30n) on its frames again and fresh ones,
    # 80,000 wide (seed 47) and 20,000 of the paper's world (seed 48);
    # stage 30: stage 29 (its record in models/dnn32d8/stage29/; its run was runs/s29n) on its
    # frames again and fresh ones, 80,000 wide (seed 45) and 20,000 of the paper's world (seed 46);
    # stage 29: stage 28 (its record in models/dnn32d8/stage28/; its run was runs/s28n) on seeds
    # 42 and 43 again and 80,000 fresh wide frames (seed 44);
    # stage 28: stage 27 (not committed; its run was runs/s27n) on seeds 42 (15 % cut at the
    # chest) and 43, itself stage 22 cut to 32 filters, on the same;
    # stage 22 (models/dnn33d8): stage 21 on seeds 35 (15 % cut at the chest)
    # and 34, from stage 21 (its record in models/dnn33d8/stage21/), itself stage 20 on seeds
    # 31 and 32, from stage 20 (its record in models/dnn33d8/stage20/), itself stage 19 on
    # seeds 29 and 30, from stage 19 (its record in models/dnn33d8/stage19/), itself stage 18
    # grown by four more convolutions, on fresh frames of wide world version 3 (seeds 27 and
    # 28); stage 18
    # (models/dnn33d4): stage 17 on seeds 25 and 26, from stage 17 (its record in
    # models/dnn33d4/stage17/), itself stage 16 grown by two more convolutions, on seeds 23 and
    # 24; stage 16: stage 15 on seeds 21 and 22, from stage 15 (then models/dnn33d; its record
    # in stage15/), itself stage 14 on seeds 19 and 20 (record in stage14/), itself stage 13 on
    # seeds 17 and 18 (record in stage13/), models/dnn33 (stage 12) deepened, on fresh version 2
    # frames (seeds 15 and 16)
    models = default_model_dir().parent

    def wide(seed, chest=None):  # the wide world's 80,000 (chest: synth --chest-cut's share)
        return (80000, seed, chest)

    def paper(seed, count=40000):  # the paper's world as the node shows it
        return (count, seed, None)

    # From stage 28 on, each stage trains on the one before's frames and fresh ones.
    stage28 = [wide(42, 0.15), paper(43)]
    stage29 = stage28 + [wide(44, 0.15)]
    stage30 = stage29 + [wide(45, 0.15), paper(46, 20000)]
    stage32 = stage30 + [wide(47, 0.15), paper(48, 20000)]
    stage35 = stage32 + [wide(49, 0.15), paper(50, 20000), wide(51, 0.15), paper(52, 20000)]
    # Stage 40 trains on fresh frames only (the earlier ones were lost with a machine's scratch).
    stage40 = [wide(53, 0.15), wide(58, 0.15), wide(59, 0.15), paper(54, 20000), paper(60)]
    for record, arch, datasets, init_from in (
            ("dnn32d8w", "dnn32d8w", stage40, "models/dnn32d8w"),
            ("dnn32d8w/stage37", "dnn32d8w", stage35, "runs/s36n"),
            ("dnn32d8w/stage36", "dnn32d8w", stage35, "runs/s35n"),
            ("dnn32d8w/stage35", "dnn32d8w", stage35, "runs/s32n"),
            ("dnn32d8", "dnn32d8", stage32, "runs/s30n"),
            ("dnn32d8/stage30", "dnn32d8", stage30, "runs/s29n"),
            ("dnn32d8/stage29", "dnn32d8", stage29, "runs/s28n"),
            ("dnn32d8/stage28", "dnn32d8", stage28, "runs/s27n"),
            ("dnn33d12", "dnn33d12", [wide(40, 0.15), paper(41)], "models/dnn33d12"),
            ("dnn33d12/stage24", "dnn33d12", [wide(38, 0.15), paper(39)], "models/dnn33d12"),
            ("dnn33d12/stage23", "dnn33d12", [wide(36, 0.15), paper(37)], "models/dnn33d8"),
            ("dnn33d8", "dnn33d8", [wide(35, 0.15), paper(34)], "models/dnn33d8"),
            ("dnn33d8/stage21", "dnn33d8", [wide(31), paper(32)], "models/dnn33d8"),
            ("dnn33d8/stage20", "dnn33d8", [wide(29), paper(30)], "models/dnn33d8"),
            ("dnn33d8/stage19", "dnn33d8", [wide(27), paper(28)], "models/dnn33d4"),
            ("dnn33d4", "dnn33d4", [wide(25), paper(26)], "models/dnn33d4"),
            ("dnn33d4/stage17", "dnn33d4", [wide(23), paper(24)], "models/dnn33d"),
            ("dnn33d", "dnn33d", [wide(21), paper(22)], "models/dnn33d"),
            ("dnn33d/stage15", "dnn33d", [wide(19), paper(20)], "models/dnn33d"),
            ("dnn33d/stage14", "dnn33d", [wide(17), paper(18)], "models/dnn33d")):
        info = json.loads((models / record / "model.json").read_text())
        assert info["arch"] == arch
        data = info["training"]["data"]
        assert [(d["count"], d["seed"], d.get("chest_cut_share")) for d in data["datasets"]] \
            == datasets
        assert {d["generator_version"] for d in data["datasets"]} == {3}
        assert data["zoom_reference"] == 2.2
        assert info["training"]["config"]["init_from"] == init_from
    stage13 = json.loads((models / "dnn33d" / "stage13" / "model.json").read_text())
    assert stage13["arch"] == "dnn33d"
    assert [(d["count"], d["seed"]) for d in stage13["training"]["data"]["datasets"]] == \
        [(80000, 15), (40000, 16)]
    assert stage13["training"]["config"]["init_from"] == "models/dnn33"
    model = default_model_dir().parent / "dnn33"
    info = json.loads((model / "model.json").read_text())
    assert info["arch"] == "dnn33"
    # stage 12: the zoomed wide world (seed 12) and the paper's world as the node shows it
    # (seed 13), people passing in front and half the feet cut, from stage 10 (then
    # models/dnn33; its record in stage10/), itself from stage 9 (trained as
    # models/dnn33-stage9; record in stage9/), itself from stage 8 (record in stage8/).
    data = info["training"]["data"]
    assert data["count"] == 120000 and data["zoom_reference"] == 2.2
    assert [(d["count"], d["seed"]) for d in data["datasets"]] == [(80000, 12), (40000, 13)]
    assert info["training"]["config"]["init_from"] == "models/dnn33"
    stage10 = json.loads((model / "stage10" / "model.json").read_text())
    assert [(d["count"], d["seed"]) for d in stage10["training"]["data"]["datasets"]] == \
        [(120000, 6), (40000, 7)]
    assert stage10["training"]["config"]["init_from"] == "models/dnn33-stage9"
    stage9 = json.loads((model / "stage9" / "model.json").read_text())
    assert [d["seed"] for d in stage9["training"]["data"]["datasets"]] == [4, 5]
    assert stage9["training"]["config"]["init_from"] == "models/dnn33"
    # stage 8 from stage 7; stages 6-8 were trained in models/dnn33-zoom, which became
    # models/dnn33 when stage 8 became the default
    stage8 = json.loads((model / "stage8" / "model.json").read_text())
    assert [(d["count"], d["seed"]) for d in stage8["training"]["data"]["datasets"]] == \
        [(160000, 0), (80000, 3)]
    assert stage8["training"]["config"]["init_from"] == "models/dnn33-zoom"
    stage7 = json.loads((model / "stage7" / "model.json").read_text())
    assert stage7["training"]["data"]["seed"] == 2
    assert stage7["training"]["config"]["init_from"] == "models/dnn33-zoom"
    # stage 7 from stage 6 (kept whole in stage6/), itself from stage 5
    stage6 = json.loads((model / "stage6" / "model.json").read_text())
    assert stage6["training"]["data"]["seed"] == 0
    assert stage6["training"]["config"]["init_from"] == "models/dnn33-wide2"


# Each wide-world model against its card, on fresh frames of the world its card's figure is
# from: stage 2 on version 1 (people anywhere in a fixed view), stage 5 on version 2 (the camera
# turned to the person, as the node does), stage 12 (models/dnn33), stage 16 (models/dnn33d),
# stage 18 (models/dnn33d4), stage 22 (models/dnn33d8), stage 25 (models/dnn33d12), stage 32
# (models/dnn32d8) and the default (stage 37, models/dnn32d8w) on version 2 zoomed to each
# person. Each card's figure is of version 2 (or 1).
VERSION_2 = {"floor_under_feet": False}
CARDS = [("dnn33-wide", "wide_all", {"centred": False, **VERSION_2}),
         ("dnn33-wide2", "wide2_all", VERSION_2),
         ("dnn33", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2}),
         ("dnn33d", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2}),
         ("dnn33d4", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2}),
         ("dnn33d8", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2}),
         ("dnn33d12", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2}),
         ("dnn32d8", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2}),
         ("dnn32d8w", "wide2_zoom_all", {"zoom_reference": 2.2, **VERSION_2})]


@pytest.mark.parametrize("name,key,world", CARDS)
def test_wide_models_score_what_their_cards_say_and_their_confidence_means_something(
        name, key, world):
    from depth_pose_ros.learn.metrics import mean_without_root

    model = default_model_dir().parent / name
    scenes = generate_wide(np.random.default_rng(515151), 800, WideConfig(**world))
    depth = add_depth_noise(scenes.depth, TEST_NOISE_SIGMA, np.random.default_rng(3))
    estimator = PoseEstimator.load(model)
    joints3d, pixels, confidence = estimator.estimate_batch_with_confidence(depth)
    dist = joint_distances(joints3d, scenes.joints3d)
    # The hands' pixel outputs are where the hands are: /body_joints, the markers and
    # skeleton2d use them. Session 33's first stage 18, right in 3D, had them a median 7.8
    # pixels off on these frames (the default, stage 40, 1.2; stage 37 1.3; stage 36 1.3, stage
    # 32 1.3, stage 30 1.3, stage 29 1.3, stage 28 1.4, stage 25 1.4, stage 24 1.3, stage 23
    # 1.4, stage 22 1.4, stage 21 1.4, stage 20 1.4, stage 18 1.5, stage 17 1.8, stage 5 3.6).
    hands = np.linalg.norm(pixels[:, list(HANDS)] - scenes.pixels[:, list(HANDS)], axis=-1)
    assert np.median(hands) < 5.0
    recorded = json.loads((model / "model.json").read_text())["metrics"][key]
    # 800 fresh frames against the 20,000 of the card: within sampling noise.
    assert abs(mean_without_root(average_precision(dist)) - recorded["ap10_mean_no_root"]) < 0.05
    hit = dist < 0.1
    trusted = confidence >= 0.5
    assert hit[trusted].mean() > hit[~trusted].mean() + 0.2  # trusted joints are hit more often
    pose = estimator.estimate_virtual(depth[0])
    np.testing.assert_allclose(pose.joints3d, joints3d[0], atol=1e-4)
    np.testing.assert_allclose(pose.confidence, confidence[0], atol=1e-4)


def test_the_default_model_places_people_cut_at_the_chest():
    """Someone close to a low camera, the image's top across their chest (synth --chest-cut):
    the default, trained on such frames since stage 22, places their joints (stage 21, never
    shown them, scored 0.061 on the card's 5,000 frames; stage 22 0.314, stage 32 0.366, stage 36
    0.367, stage 37 0.372), and the joints it is confident of are mostly right (stage 21: 14 % of
    them)."""
    from depth_pose_ros.learn.metrics import mean_without_root

    scenes = generate_wide(np.random.default_rng(616161), 300,
                           WideConfig(zoom_reference=2.2, chest_cut_share=1.0))
    depth = add_depth_noise(scenes.depth, TEST_NOISE_SIGMA, np.random.default_rng(4))
    joints3d, _, confidence = PoseEstimator.load(default_model_dir()) \
        .estimate_batch_with_confidence(depth)
    dist = joint_distances(joints3d, scenes.joints3d)
    assert mean_without_root(average_precision(dist)) > 0.25
    trusted = confidence[:, 1:] >= 0.5
    assert (dist[:, 1:][trusted] < 0.1).mean() > 0.65
