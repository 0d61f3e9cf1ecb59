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

approach: the first person walks up to the camera instead (synth.people_scene): near it the
image cuts their head and legs, so they are less than VISIBLE_TO_COUNT visible and left out of
the table above. A second table follows them by their mid-hip's distance: the share of frames
they are found in (matched, whatever their visibility) and AP@10cm of their non-root joints
that are in the image, with the others and alone; and, alone, the share of their non-root joints
(in the image or not) given confidence >= 0.5 and how many of those are within 10 cm: close up
the image cuts their chest, and a joint above it placed in the picture with confidence misleads
a robot. Last, the share of frames a fresh pipeline finds them in, alone: first seen there,
without the frames before (the node started, or the camera turned to them, with them close).

leave: everyone walks out of the image at its sides and comes back (synth.people_scene), so
that people come into view at a side. The table's "found" columns (the share of the counted
frames in which the person is matched) show how soon they are found.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.learn.losses import CONFIDENCE_THRESHOLD
from depth_pose_ros.learn.metrics import (
    AP_THRESHOLD_M,
    average_precision,
    match_people,
    mean_without_root,
)
from depth_pose_ros.runtime.estimator import PoseEstimator
from depth_pose_ros.runtime.frame_tracker import FrameTracker
from depth_pose_ros.runtime.node_parameters import defaults
from depth_pose_ros.runtime.person import PersonFilter
from depth_pose_ros.runtime.pipeline import PosePipeline
from depth_pose_ros.runtime.tracking import LOST
from depth_pose_ros.synth.scenes import APPROACH_NEAREST_M, VISIBLE_TO_COUNT, people_scene

WHOLLY_VISIBLE = 0.95
APPROACH_BINS_M = (APPROACH_NEAREST_M, 1.0, 1.4, 2.0, np.inf)  # the walker's mid-hip distance


def run(people: int = 3, seconds: float = 60.0, every: int = 5, seed: int = 0,
        model_dir=None, progress: bool = True, tracked: bool = False,
        mirror_average: bool = True, wall: float | None = None,
        remove_walls: bool = True, approach: bool = False, leave: bool = False) -> dict:
    """wall: the back wall's distance, metres (default the scene's, beyond max_depth);
    remove_walls: as the node's parameter; approach, leave: see the module's text."""
    from threadpoolctl import threadpool_limits
    from tqdm import tqdm

    rate = 30.0
    scene = people_scene(seed, people, int(round(seconds * rate)), rate, approach=approach,
                         leave=leave)
    if wall is not None:
        scene = dataclasses.replace(scene, wall_distance=wall)
    estimator = PoseEstimator.load(model_dir, mirror_average=mirror_average)

    def new_pipeline():  # sharing the estimator
        return PosePipeline(estimator, PersonFilter(remove_walls=remove_walls),
                            max_people=max(4, people))

    # A pipeline each for everyone and for each person alone: a pipeline remembers the last
    # frame's people (and the room), as the node's does.
    pipelines = [new_pipeline() for _ in range(people + 1)]
    if tracked:  # one step with everyone, one per person alone
        parameters = defaults() | {"max_people": max(4, people), "remove_walls": remove_walls}
        steps = [FrameTracker(pipeline) for pipeline in pipelines]
        for step in steps:
            step.configure(parameters)
    together = {p + 1: [] for p in range(people)}  # true ID -> (7,) distances per counted frame
    alone = {p + 1: [] for p in range(people)}
    seen = {p + 1: [] for p in range(people)}  # and how visible the person was
    # approach: (mid-hip distance, (7,) in the image, (7,) together, (7,) alone, (7,) confidence
    # alone, found alone by a fresh pipeline)
    walker = []
    times: dict[int, list[float]] = {}
    miss, unsure = np.full(7, np.inf), np.zeros(7, np.float32)
    confidence_of: dict[int, np.ndarray] = {}  # the tracks tracked_now saw last: ID -> (7,)

    def tracked_now(step: int, raw) -> list:  # (ID, (7, 3) joints) of the tracks seen now
        tracks, _ = steps[step].step(to_millimetres(raw), scene.camera, k / rate)
        seen_now = [t for t in tracks if t.state != LOST]
        confidence_of.clear()
        confidence_of.update((t.id, t.detection.confidence) for t in seen_now)
        return [(t.id, t.joints3d) for t in seen_now]

    def together_now(raw) -> list:  # (ID, (7, 3) joints) of the people seen with the others
        started = time.perf_counter()
        if tracked:
            estimates = tracked_now(0, raw)
        else:
            estimates = list(enumerate(pose.joints3d for pose in
                                       pipelines[0].process_all(to_millimetres(raw),
                                                                scene.camera)))
        times.setdefault(len(estimates), []).append(time.perf_counter() - started)
        return estimates

    def alone_now(person: int, raw, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(7,) distances and (7,) confidence (0 when not found) of the person alone."""
        started = time.perf_counter()
        if tracked:
            own = match_people(tracked_now(person, raw), [(person, True, truth)])
            distance, confidence = ((own.pairs[0][2], confidence_of[own.kept[own.pairs[0][1]]])
                                    if own.pairs else (miss, unsure))
        else:
            pose = pipelines[person].process(to_millimetres(raw), scene.camera)
            distance, confidence = ((np.linalg.norm(pose.joints3d - truth, axis=1),
                                     pose.confidence) if pose.detected else (miss, unsure))
        times.setdefault(1, []).append(time.perf_counter() - started)
        return distance, confidence

    # One BLAS thread: the scene's renderer multiplies large matrices between the timed calls,
    # and OpenBLAS's threads then spin on the cores for a while, taking them from the next
    # network call (measured on a 2-core AVX2 EPYC: 4 people 24 ms a frame instead of 17, the
    # network 1.8x slower). The node's process renders nothing; the renderer is as fast so.
    with threadpool_limits(limits=1, user_api="blas"):
        for k in tqdm(range(0, scene.frames, 1 if tracked else every), desc="bench-people",
                      unit="frame", disable=not progress):
            depth, joints3d, pixels, visible, each = scene.frame(k, each_alone=True)
            truth = [(p + 1, bool(visible[p] >= VISIBLE_TO_COUNT), joints3d[p])
                     for p in range(people)]
            estimates = together_now(depth)
            match = match_people(estimates, truth)
            scored = k % every == 0  # tracked: every frame is stepped, every every-th scored
            # a tracked person's own step sees each frame; otherwise only the counted are run
            # (and the walker, on every frame, as a node would see them)
            stepped = range(1, people + 1) if tracked else \
                sorted(set(match.counted) | ({1} if approach else set()))
            by_person = {person: alone_now(person, each[person - 1], joints3d[person - 1])
                         for person in stepped}
            if not scored:
                continue
            if approach:  # everyone counts here, so that the walker is matched when near
                everyone = match_people(estimates, [(p, True, j) for p, _, j in truth])
                found = {person: distance for person, _, distance in everyone.pairs}
                fresh = new_pipeline()
                walker.append((float(joints3d[0, 0, 2]), scene.camera.in_view(pixels[0]),
                               found.get(1, miss), *by_person[1],
                               fresh.process(to_millimetres(each[0]), scene.camera).detected))
            matched = {person: distance for person, _, distance in match.pairs}
            for person in match.counted:
                together[person].append(matched.get(person, miss))
                seen[person].append(visible[person - 1])
                alone[person].append(by_person[person][0])

    def ap(rows):
        return round(float(mean_without_root(average_precision(np.array(rows)))), 4) \
            if len(rows) else None

    def both_ways(mine):  # {"together": rows, "alone": rows}: AP and share found, each way
        return {**{way: ap(v) for way, v in mine.items()},
                **{f"found_{way}": _share_found(v) for way, v in mine.items()}}

    def scores(i, least):
        keep = np.asarray(seen[i]) >= least
        return {"frames": int(keep.sum()), **both_ways(
            {way: np.asarray(rows[i])[keep] for way, rows in
             (("together", together), ("alone", alone))})}

    per_person = {str(i): scores(i, 0.0) for i in together}
    wholly = {str(i): scores(i, WHOLLY_VISIBLE) for i in together}
    p50 = {str(n): round(1e3 * float(np.median(t)), 2) for n, t in sorted(times.items())}
    extra = {"approach": _by_distance(walker)} if approach else {}
    return extra | {"people": people, "seconds": seconds, "every": every, "seed": seed,
            "tracked": tracked, "mirror_average": mirror_average, "leave": leave,
            "wall_m": scene.wall_distance, "remove_walls": remove_walls,
            "camera": f"{scene.camera.width} x {scene.camera.height}",
            "ap10_no_root": per_person,
            "ap10_no_root_wholly_visible": wholly,
            "ap10_no_root_all": both_ways({"together": sum(together.values(), []),
                                           "alone": sum(alone.values(), [])}),
            "pipeline_ms_p50_by_people_found": p50,
            "frames_by_people_found": {str(n): len(t) for n, t in sorted(times.items())}}


def _share_found(distances) -> float | None:
    """The share of rows of (7,) joint distances (inf: not found) in which the person was
    found; None without rows."""
    return round(float(np.isfinite(np.asarray(distances)[:, 0]).mean()), 4) \
        if len(distances) else None


def _by_distance(walker: list) -> list[dict]:
    """The walker's frames in APPROACH_BINS_M by mid-hip distance: how often found, and
    AP@10cm of the non-root joints in the image, with the others and alone; alone, the share
    of the non-root joints given confidence >= CONFIDENCE_THRESHOLD and of those within 10 cm;
    the share found by a fresh pipeline."""
    distance, in_image, together, alone, confidence, first_seen = \
        (np.array(part) for part in zip(*walker))
    rows = []
    for near, far in zip(APPROACH_BINS_M[:-1], APPROACH_BINS_M[1:]):
        frames = (distance >= near) & (distance < far)
        row = {"from_m": near, "to_m": None if np.isinf(far) else far,
               "frames": int(frames.sum())}
        seen = in_image[frames, 1:]
        for way, errors in (("together", together), ("alone", alone)):
            row[f"found_{way}"] = _share_found(errors[frames])
            row[f"ap10_in_view_{way}"] = (round(float(average_precision(
                errors[frames, 1:][seen])), 4) if seen.any() else None)
        sure = confidence[frames, 1:] >= CONFIDENCE_THRESHOLD
        row["confident_alone"] = round(float(sure.mean()), 4) if frames.any() else None
        row["within_10cm_of_confident_alone"] = (round(float(
            (alone[frames, 1:][sure] < AP_THRESHOLD_M).mean()), 4) if sure.any() else None)
        row["found_first_seen_alone"] = (round(float(first_seen[frames].mean()), 4)
                                         if frames.any() else None)
        rows.append(row)
    return rows


def report(result: dict) -> str:
    how = (f"every frame through the node's step (IDs, smoothing), scored every "
           f"{result['every']}th" if result.get("tracked") else f"every {result['every']}th frame")
    if not result.get("mirror_average", True):
        how += ", one pass (no mirror averaging)"
    if result.get("leave"):
        how += ", everyone walking out of the image at its sides and back"
    if "wall_m" in result:
        how += f", the back wall at {result['wall_m']:g} m" + \
            ("" if result["remove_walls"] else " (walls not removed)")
    header = ["| person | frames | found with the others | alone | AP with the others | alone "
              "| difference |", "| --- | --- | --- | --- | --- | --- | --- |"]

    def table_row(person, v):
        return (f"| {person} | {v['frames']} | {v['found_together']:.3f} | "
                f"{v['found_alone']:.3f} | {v['together']:.3f} | {v['alone']:.3f} | "
                f"{v['together'] - v['alone']:+.3f} |")

    lines = [f"{result['people']} people, {result['seconds']:g} s at 30 Hz, {how} "
             f"({result['camera']}); on the frames where the person is at least "
             f"{VISIBLE_TO_COUNT:.0%} visible: the share they are found in, and AP@10cm of the "
             "six non-root joints (not found: a miss)", "", *header]
    rows = list(result["ap10_no_root"].items()) + [("all", {
        "frames": sum(v["frames"] for v in result["ap10_no_root"].values()),
        **result["ap10_no_root_all"]})]
    lines += [table_row(person, v) for person, v in rows if v["together"] is not None]
    lines += ["", f"the same on the frames where the person is at least {WHOLLY_VISIBLE:.0%} "
              "visible (nobody in front of them):", "", *header]
    lines += [table_row(person, v) for person, v in result["ap10_no_root_wholly_visible"].items()
              if v["together"] is not None]
    p50 = result["pipeline_ms_p50_by_people_found"]
    what = "the node's step" if result.get("tracked") else "pipeline time"
    lines += ["", f"{what} per frame, p50 by people found: " + ", ".join(
        f"{n}: {ms:.2f} ms ({result['frames_by_people_found'][n]} frames)"
        for n, ms in p50.items())]
    if "1" in p50 and str(result["people"]) in p50:
        lines.append(f"{result['people']} people / 1 person: "
                     f"{p50[str(result['people'])] / p50['1']:.2f}x")
    if "approach" in result:
        lines += ["", "person 1 walking up to the camera, by their mid-hip's distance: the share "
                  "of frames they are found in, and AP@10cm of their non-root joints in the "
                  "image; alone, the share of their non-root joints (in the image or not) "
                  f"given confidence >= {CONFIDENCE_THRESHOLD:g}, and of those within 10 cm; "
                  "the share found alone when first seen there (a fresh pipeline)", "",
                  "| distance | frames | found with the others | alone | "
                  "AP@10cm in the image, with the others | alone | confident | of those, "
                  "within 10 cm | found, first seen there |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in result["approach"]:
            span = (f"{row['from_m']:g}-{row['to_m']:g} m" if row["to_m"] is not None
                    else f"{row['from_m']:g} m and farther")
            cells = [f"{v:.3f}" if v is not None else "-" for v in
                     (row["found_together"], row["found_alone"], row["ap10_in_view_together"],
                      row["ap10_in_view_alone"], row.get("confident_alone"),
                      row.get("within_10cm_of_confident_alone"),
                      row.get("found_first_seen_alone"))]
            lines.append(f"| {span} | {row['frames']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
