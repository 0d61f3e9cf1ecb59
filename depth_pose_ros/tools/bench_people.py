"""`depth-pose bench-people`: several people in one frame against each of them alone (issue 16),
the node's pipeline without ROS.

On a synth.people_scene (N people walking to and fro at 30 Hz, crossing and hiding one another;
640 x 480; its back wall out of reach, or `wall` metres away: the second person's mid-hip is at
about 3.1 m, so 3.35 puts their back about 12 cm from it), every `every`-th frame is run twice: as it is, every person found in one call
(PosePipeline.process_all, as the node does), and once per person with that person alone in
the same room (PosePipeline.process, the one-person case). Reports, per person and over the
frames where they are at least synth.VISIBLE_TO_COUNT visible, AP@10cm of the six non-root
joints in both (a person not found counts as a miss; no smoothing in either), and the
pipeline's time per frame by the number of people it found. The same AP on the frames where
the person is wholly visible (at least WHOLLY_VISIBLE) separates what the others' pixels cost
the pipeline from what hiding part of a person costs the network. The MOT counts (ID switches,
recall, precision) come from bag-eval on a bag of the same scene (BENCHMARKS.md).

tracked: what a robot gets instead of single frames. Every frame goes through the node's step
(frame_tracker.FrameTracker with the node's default parameters: IDs, One-Euro smoothing), once
with everyone and once per person alone (a tracker of its own each); every `every`-th frame
scores the tracks seen in it, matched to the people as bag-eval matches them.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.learn.metrics import average_precision, match_people, mean_without_root
from depth_pose_ros.runtime.estimator import PoseEstimator
from depth_pose_ros.runtime.frame_tracker import FrameTracker
from depth_pose_ros.runtime.node_parameters import defaults
from depth_pose_ros.runtime.person import PersonFilter
from depth_pose_ros.runtime.pipeline import PosePipeline
from depth_pose_ros.runtime.tracking import LOST
from depth_pose_ros.synth.scenes import VISIBLE_TO_COUNT, people_scene

WHOLLY_VISIBLE = 0.95


def run(people: int = 3, seconds: float = 60.0, every: int = 5, seed: int = 0,
        model_dir=None, progress: bool = True, tracked: bool = False,
        mirror_average: bool = True, wall: float | None = None,
        remove_walls: bool = True) -> dict:
    """wall: the back wall's distance, metres (default the scene's, beyond max_depth);
    remove_walls: as the node's parameter."""
    from threadpoolctl import threadpool_limits
    from tqdm import tqdm

    rate = 30.0
    scene = people_scene(seed, people, int(round(seconds * rate)), rate)
    if wall is not None:
        scene = dataclasses.replace(scene, wall_distance=wall)
    pipeline = PosePipeline(PoseEstimator.load(model_dir, mirror_average=mirror_average),
                            PersonFilter(remove_walls=remove_walls), max_people=max(4, people))
    if tracked:  # one step with everyone, one per person alone, sharing the pipeline
        parameters = defaults() | {"max_people": max(4, people), "remove_walls": remove_walls}
        steps = [FrameTracker(pipeline) for _ in range(people + 1)]
        for step in steps:
            step.configure(parameters)
    together = {p + 1: [] for p in range(people)}  # true ID -> (7,) distances per counted frame
    alone = {p + 1: [] for p in range(people)}
    seen = {p + 1: [] for p in range(people)}  # and how visible the person was
    times: dict[int, list[float]] = {}
    miss = np.full(7, np.inf)

    def tracked_now(step: int, raw) -> list:  # (ID, (7, 3) joints) of the tracks seen now
        tracks, _ = steps[step].step(to_millimetres(raw), scene.camera, k / rate)
        return [(t.id, t.joints3d) for t in tracks if t.state != LOST]

    def together_now(raw) -> list:  # (ID, (7, 3) joints) of the people seen with the others
        started = time.perf_counter()
        if tracked:
            estimates = tracked_now(0, raw)
        else:
            estimates = list(enumerate(pose.joints3d for pose in
                                       pipeline.process_all(to_millimetres(raw), scene.camera)))
        times.setdefault(len(estimates), []).append(time.perf_counter() - started)
        return estimates

    def alone_now(person: int, raw, truth: np.ndarray) -> np.ndarray:  # (7,) distances
        started = time.perf_counter()
        if tracked:
            own = match_people(tracked_now(person, raw), [(person, True, truth)])
            distance = own.pairs[0][2] if own.pairs else miss
        else:
            pose = pipeline.process(to_millimetres(raw), scene.camera)
            distance = np.linalg.norm(pose.joints3d - truth, axis=1) if pose.detected else miss
        times.setdefault(1, []).append(time.perf_counter() - started)
        return distance

    # One BLAS thread: the scene's renderer multiplies large matrices between the timed calls,
    # and OpenBLAS's threads then spin on the cores for a while, taking them from the next
    # network call (measured on a 2-core AVX2 EPYC: 4 people 24 ms a frame instead of 17, the
    # network 1.8x slower). The node's process renders nothing; the renderer is as fast so.
    with threadpool_limits(limits=1, user_api="blas"):
        for k in tqdm(range(0, scene.frames, 1 if tracked else every), desc="bench-people",
                      unit="frame", disable=not progress):
            depth, joints3d, _, visible, each = scene.frame(k, each_alone=True)
            truth = [(p + 1, bool(visible[p] >= VISIBLE_TO_COUNT), joints3d[p])
                     for p in range(people)]
            match = match_people(together_now(depth), truth)
            scored = k % every == 0  # tracked: every frame is stepped, every every-th scored
            # a tracked person's own step sees each frame; otherwise only the counted are run
            stepped = range(1, people + 1) if tracked else match.counted
            by_person = {person: alone_now(person, each[person - 1], joints3d[person - 1])
                         for person in stepped}
            if not scored:
                continue
            matched = {person: distance for person, _, distance in match.pairs}
            for person in match.counted:
                together[person].append(matched.get(person, miss))
                seen[person].append(visible[person - 1])
                alone[person].append(by_person[person])

    def ap(rows):
        return round(float(mean_without_root(average_precision(np.array(rows)))), 4) \
            if len(rows) else None

    def scores(i, least):
        keep = np.asarray(seen[i]) >= least
        return {"frames": int(keep.sum()), "together": ap(np.asarray(together[i])[keep]),
                "alone": ap(np.asarray(alone[i])[keep])}

    per_person = {str(i): scores(i, 0.0) for i in together}
    wholly = {str(i): scores(i, WHOLLY_VISIBLE) for i in together}
    p50 = {str(n): round(1e3 * float(np.median(t)), 2) for n, t in sorted(times.items())}
    return {"people": people, "seconds": seconds, "every": every, "seed": seed,
            "tracked": tracked, "mirror_average": mirror_average,
            "wall_m": scene.wall_distance, "remove_walls": remove_walls,
            "camera": f"{scene.camera.width} x {scene.camera.height}",
            "ap10_no_root": per_person,
            "ap10_no_root_wholly_visible": wholly,
            "ap10_no_root_all": {"together": ap(sum(together.values(), [])),
                                 "alone": ap(sum(alone.values(), []))},
            "pipeline_ms_p50_by_people_found": p50,
            "frames_by_people_found": {str(n): len(t) for n, t in sorted(times.items())}}


def report(result: dict) -> str:
    how = (f"every frame through the node's step (IDs, smoothing), scored every "
           f"{result['every']}th" if result.get("tracked") else f"every {result['every']}th frame")
    if not result.get("mirror_average", True):
        how += ", one pass (no mirror averaging)"
    if "wall_m" in result:
        how += f", the back wall at {result['wall_m']:g} m" + \
            ("" if result["remove_walls"] else " (walls not removed)")
    lines = [f"{result['people']} people, {result['seconds']:g} s at 30 Hz, {how} "
             f"({result['camera']}); AP@10cm of the six non-root joints "
             f"on the frames where the person is at least {VISIBLE_TO_COUNT:.0%} visible", "",
             "| person | frames | with the others | alone | difference |",
             "| --- | --- | --- | --- | --- |"]
    rows = list(result["ap10_no_root"].items()) + [("all", {
        "frames": sum(v["frames"] for v in result["ap10_no_root"].values()),
        **result["ap10_no_root_all"]})]
    for person, v in rows:
        if v["together"] is None:
            continue
        lines.append(f"| {person} | {v['frames']} | {v['together']:.3f} | {v['alone']:.3f} | "
                     f"{v['together'] - v['alone']:+.3f} |")
    lines += ["", f"the same on the frames where the person is at least {WHOLLY_VISIBLE:.0%} "
              "visible (nobody in front of them):", "",
              "| person | frames | with the others | alone | difference |",
              "| --- | --- | --- | --- | --- |"]
    for person, v in result["ap10_no_root_wholly_visible"].items():
        if v["together"] is not None:
            lines.append(f"| {person} | {v['frames']} | {v['together']:.3f} | {v['alone']:.3f} "
                         f"| {v['together'] - v['alone']:+.3f} |")
    p50 = result["pipeline_ms_p50_by_people_found"]
    what = "the node's step" if result.get("tracked") else "pipeline time"
    lines += ["", f"{what} per frame, p50 by people found: " + ", ".join(
        f"{n}: {ms:.2f} ms ({result['frames_by_people_found'][n]} frames)"
        for n, ms in p50.items())]
    if "1" in p50 and str(result["people"]) in p50:
        lines.append(f"{result['people']} people / 1 person: "
                     f"{p50[str(result['people'])] / p50['1']:.2f}x")
    return "\n".join(lines)
