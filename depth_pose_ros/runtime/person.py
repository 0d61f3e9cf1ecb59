"""Isolating the person in a virtual-camera depth frame (60 x 50, metres, 0 = no return).

The paper keeps the object closest to the camera. Real rooms defeat that (a pillar in front of
the person, walls around, the floor touching the feet), so:
1. keep depths inside [min_depth, max_depth];
2. remove the floor: the roughly horizontal plane with the most points (RANSAC on the lower half);
3. split the rest into surfaces: 4-neighbours whose depths differ by at most max_depth_step;
   remove the walls with what lies just behind them (a recess, a door's reveal): in the large
   surfaces that run out of the image, the upright planes that hold most of them, when such a
   plane itself runs out of the image and spans a room's width; then split again (a person
   whose back is near a wall is one surface with it until the wall goes);
4. keep surfaces shaped like a standing person: at least min_pixels, between min_height and
   max_height metres tall, at most max_width wide, and not running out of the image at the top or
   the sides (walls, pillars and door frames do; legs may leave it at the bottom), and not a
   piece of the room seen between nearer things (at the depth of a wall that shows around
   them). A surface that continues a person of the last frame (most of it lies where they
   were, and it holds most of them) may run out of the image and be shorter: someone who
   walked up to the camera until the image cuts their head, or who is leaving at a side. One
   that runs out at a side only, with a head in view (a narrow top, off the image's edges, at
   a person's height above the floor), may too: someone coming in at that side. So may one
   close that runs out at the top only and whose outline widens and narrows: someone already
   close when first seen; it is unconfirmed until the network is confident of it (the
   pipeline's FIRST_SEEN_CONFIDENCE);
5. of those, the closest (the paper's rule), with the parts of the same body that a forearm
   across it cut off (the head and chest above it, the legs below: any size, stacked on it at
   its depth), and the small surfaces that touch it and lie in front of it or just behind (a
   hand or a knee pointed at the camera, an arm seen end-on).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera


@dataclass(frozen=True)
class PersonFilter:
    """Settings of the person extraction; the node's parameters map onto these."""

    min_depth: float = 0.5  # m
    # m; the wide world's people stand up to 5 m away (their mid-hips), their backs a little
    # farther: a cut at 4.5 m sliced a person walking there (BENCHMARKS.md, session 24)
    max_depth: float = 5.5
    remove_floor: bool = True
    floor_tolerance: float = 0.08  # m from the fitted plane still counts as floor
    floor_max_tilt_deg: float = 25.0  # the floor's normal within this of the camera's "up"
    floor_min_spread: float = 0.1  # m, standard deviation of the floor's points across x
    floor_min_distance: float = 0.3  # m below the camera; planes through the camera hold whole
    # image rows (a row's pixels all lie in them whatever their depth) and are never the floor
    max_depth_step: float = 0.12  # m between neighbouring pixels of one surface
    min_pixels: int = 40
    min_height: float = 0.8  # m
    max_height: float = 2.4  # m
    max_width: float = 2.4  # m
    max_reach: float = 0.8  # m: small surfaces touching the body this far in front join it,
    max_behind: float = 0.3  # m: and those this far behind its mean depth (a foreshortened arm)
    # m: a part of the person cut off by something in front of them (another person, a chair
    # back) joins like a touching one when its middle lies at most this far beyond the
    # person's side
    max_hidden_gap: float = 0.6
    # m: a surface of any size touching the person is the rest of their body, cut off by a
    # forearm held across it, when its middle lies at most this far sideways from theirs, its
    # mean depth within two max_depth_step of theirs, the two together are person-sized, and
    # they are not mostly enclosed by something nearer (the room seen between arms and legs)
    max_split_offset: float = 0.3
    max_border_pixels: int = 10  # on the top, left or right edge: more is a wall, not an arm
    remove_walls: bool = True
    wall_tolerance: float = 0.08  # m from a wall's plane still counts as wall
    # m behind a wall's plane that still counts as the wall: its recesses, door and window
    # reveals (the ITOP room's back wall has one 0.1-0.45 m deep); a person seen farther
    # beyond an opening stays
    wall_depth: float = 0.5
    # m: a wall's points span at least this much (a person cut by the image's edge is no wall)
    wall_min_extent: float = 2.4
    wall_max_tilt_deg: float = 30.0  # a wall's normal within this of level (a table is no wall)
    # walls at most, in the largest surfaces running out of the image (as many rounds in each)
    max_walls: int = 3

    def __post_init__(self):
        if not 0 < self.min_depth < self.max_depth:
            raise ValueError(f"need 0 < min_depth < max_depth, got {self.min_depth}, "
                             f"{self.max_depth}")


def _plane_hypotheses(points: np.ndarray, valid: np.ndarray, starts: np.ndarray,
                      hypotheses: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Planes n.p + d = 0 through triples of nearby valid pixels, each triple's first pixel
    drawn from starts ((N, 2) row, column): unit normals (K, 3) with their sign undecided, and
    offsets (K,)."""
    rows, cols = valid.shape
    first = starts[rng.integers(0, len(starts), hypotheses)]
    others = np.clip(first[:, None] + rng.integers((-3, -8), (4, 9), (hypotheses, 2, 2)),
                     0, (rows - 1, cols - 1))
    pixels = np.concatenate([first[:, None], others], axis=1)  # (K, 3, 2) row, column
    triples = points[pixels[..., 0], pixels[..., 1]]  # (K, 3, 3)
    normals = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
    length = np.linalg.norm(normals, axis=1)
    ok = valid[others[..., 0], others[..., 1]].all(axis=1) & (length > 1e-9)
    normals = normals[ok] / length[ok, None]
    return normals, -np.einsum("kj,kj->k", normals, triples[ok][:, 0])


def _spread_over_an_area(on_plane: np.ndarray, flt: PersonFilter) -> bool:
    """A plane's points (N, 3) cover an area, not a band (the RMS spread across its narrower
    direction is at least floor_min_spread)."""
    spread = np.linalg.svd(on_plane - on_plane.mean(axis=0), compute_uv=False)
    return spread[1] / np.sqrt(len(on_plane)) >= flt.floor_min_spread


def find_floor(points: np.ndarray, valid: np.ndarray, flt: PersonFilter,
               hypotheses: int = 256, seed: int = 0) -> tuple[np.ndarray, float] | None:
    """RANSAC for the floor: a plane n.p + d = 0 (unit n pointing up, -y; d = the camera's height
    above it) within floor_max_tilt_deg of level and at least floor_min_distance below the
    camera, with (almost) nothing below it. Returns (n, d), or None when no plane holds
    min_pixels points spread over an area (not a band across a wall).

    Hypotheses are triples of nearby pixels, first picked in the bottom third: at 60 x 50 the
    floor is often a strip of a few rows that triples drawn across the image would rarely hit.
    Such a strip fixes the tilt about the x axis poorly, so of the planes holding nearly the
    most points the most level one wins (cameras that look at people are mounted near level).
    """
    rows = valid.shape[0]
    bottom = np.argwhere(valid[rows * 2 // 3:]) + (rows * 2 // 3, 0)
    if len(bottom) < 3:
        return None
    rng = np.random.default_rng(seed)  # fixed: the same frame always gives the same floor
    normals, offsets = _plane_hypotheses(points, valid, bottom, hypotheses, rng)
    up = -np.sign(normals[:, 1:2] + 1e-12)  # point up (-y in the optical frame)
    normals, offsets = normals * up, offsets * up[:, 0]
    keep = ((-normals[:, 1] >= np.cos(np.radians(flt.floor_max_tilt_deg)))
            & (offsets >= flt.floor_min_distance))
    normals, offsets = normals[keep], offsets[keep]
    if len(normals) == 0:
        return None
    candidates = points[valid]
    height = candidates[::4] @ normals.T + offsets  # (N/4, K): every 4th point is enough to rank
    below = (height < -flt.floor_tolerance).sum(axis=0)
    # Ranked with half the tolerance: a tighter fit tells the floor's true tilt apart.
    counts = np.where(below <= max(2, 0.01 * len(height)),
                      (np.abs(height) <= 0.5 * flt.floor_tolerance).sum(axis=0), 0)
    if counts.max() == 0:
        return None
    near_best = np.flatnonzero(counts >= 0.9 * counts.max())
    best = near_best[np.argmin(normals[near_best, 1])]  # the most level: n_y closest to -1
    on_plane = candidates[np.abs(candidates @ normals[best] + offsets[best]) <= flt.floor_tolerance]
    if len(on_plane) < flt.min_pixels:
        return None
    if not _spread_over_an_area(on_plane, flt):
        return None
    return normals[best], float(offsets[best])


def find_walls(points: np.ndarray, surface: np.ndarray, edges: np.ndarray, up: np.ndarray,
               flt: PersonFilter, hypotheses: int = 128, seed: int = 0
               ) -> list[tuple[np.ndarray, float]]:
    """RANSAC, round after round, for the walls in one surface that runs out of the image
    (whatever stands close to a wall is part of that surface, a person with their back to it;
    a room's walls and recesses meet in it). Each round takes the upright plane n.p + d = 0 (n
    within wall_max_tilt_deg of level; up: the floor's normal, or the camera's up) that holds
    most of the surface's points left, and takes those points out. The plane is a wall when
    they are at least min_pixels, touch the image's edges (edges) on more than
    max_border_pixels, span wall_min_extent and cover an area. At most max_walls rounds; the
    normals point at the camera (d > 0)."""
    rng = np.random.default_rng(seed)  # fixed: the same frame always gives the same walls
    most_tilt = np.sin(np.radians(flt.wall_max_tilt_deg))
    walls, left = [], surface.copy()
    for _ in range(flt.max_walls):
        mine = points[left]
        if len(mine) < flt.min_pixels or np.ptp(mine, axis=0).max() < flt.wall_min_extent:
            break  # no plane in what is left can hold or span enough
        normals, offsets = _plane_hypotheses(points, left, np.argwhere(left), hypotheses, rng)
        upright = np.abs(normals @ up) <= most_tilt
        if not upright.any():
            break
        normals, offsets = normals[upright], offsets[upright]
        near = np.abs(mine[::4] @ normals.T + offsets) <= flt.wall_tolerance  # every 4th: to rank
        best = int(np.argmax(near.sum(axis=0)))
        on = left & (np.abs(points @ normals[best] + offsets[best]) <= flt.wall_tolerance)
        on_plane = points[on]
        if len(on_plane) >= flt.min_pixels and \
                np.count_nonzero(on & edges) > flt.max_border_pixels and \
                np.ptp(on_plane, axis=0).max() >= flt.wall_min_extent and \
                _spread_over_an_area(on_plane, flt):
            sign = 1.0 if offsets[best] >= 0 else -1.0
            walls.append((normals[best] * sign, float(offsets[best] * sign)))
        left &= ~on
    return walls


def off_the_walls(points: np.ndarray, walls: list[tuple[np.ndarray, float]],
                  flt: PersonFilter) -> np.ndarray:
    """(..., 3) points -> (...) bool: not on any of the walls (n, d) nor within wall_depth
    behind one."""
    off = np.ones(points.shape[:-1], bool)
    for normal, offset in walls:
        in_front = points @ normal + offset  # m towards the camera
        off &= (in_front > flt.wall_tolerance) | (in_front < -flt.wall_depth)
    return off


def label_surfaces(depth: np.ndarray, valid: np.ndarray, max_step: float) -> np.ndarray:
    """(H, W) -> (H, W) surface labels 0, 1, ... (-1 off the valid pixels): 4-neighbours whose
    depths differ by at most max_step belong to one surface.

    Union-find on the joins between neighbours: each round hooks the root with the larger index
    of every join under the smaller (np.minimum.at), then points every pixel straight at its
    root. A surface's root ends as its smallest pixel index. Measured on the node's frames
    (session 25, numpy 2): twice as fast as propagating the smallest label along row and
    column runs, with the same labels.
    """
    h, w = depth.shape
    right = valid[:, :-1] & valid[:, 1:] & (np.abs(depth[:, 1:] - depth[:, :-1]) <= max_step)
    down = valid[:-1] & valid[1:] & (np.abs(depth[1:] - depth[:-1]) <= max_step)
    index = np.arange(h * w).reshape(h, w)
    low = np.concatenate([index[:, :-1][right], index[:-1][down]])  # each join's two pixels,
    high = np.concatenate([index[:, 1:][right], index[1:][down]])  # the smaller index first
    root = np.arange(h * w)
    while low.size:
        np.minimum.at(root, high, low)
        while True:  # pointer jumping until every pixel points at a root
            jumped = root[root]
            if np.array_equal(jumped, root):
                break
            root = jumped
        low, high = root[low], root[high]
        apart = low != high  # joins whose two surfaces are still two
        low, high = np.minimum(low[apart], high[apart]), np.maximum(low[apart], high[apart])
    # Number the surfaces 0, 1, ... by their smallest pixel index (a lookup, not a sort).
    on = valid.ravel()
    is_root = np.zeros(h * w, bool)
    is_root[root[on]] = True
    number = np.cumsum(is_root, dtype=np.int32) - 1
    return np.where(on, number[root], -1).reshape(h, w)


# (to, from) index pairs that bring each pixel's left, right, upper and lower neighbour to it,
# for (H, W) images and (N, H, W) stacks alike.
FROM_NEIGHBOURS = ((np.s_[..., 1:], np.s_[..., :-1]), (np.s_[..., :-1], np.s_[..., 1:]),
                   (np.s_[..., 1:, :], np.s_[..., :-1, :]), (np.s_[..., :-1, :], np.s_[..., 1:, :]))


def grow_by_neighbours(mask: np.ndarray) -> np.ndarray:
    """Boolean masks ((H, W) or (N, H, W)) grown by their 4-neighbours; on a map of labels,
    each pixel takes the largest of its own and its neighbours'."""
    grown = mask.copy()
    for to, source in FROM_NEIGHBOURS:
        np.maximum(grown[to], mask[source], out=grown[to])
    return grown


def _edges(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed pixels on the top, left or right edge of the observed area; and those on its
    top edge."""
    inner = np.zeros_like(observed)
    inner[1:, 1:-1] = observed[:-1, 1:-1] & observed[1:, :-2] & observed[1:, 2:]
    below_the_top = np.zeros_like(observed)
    below_the_top[1:] = observed[:-1]
    return observed & ~inner, observed & ~below_the_top


def _floor_still_fits(height: np.ndarray, valid: np.ndarray, flt: PersonFilter) -> bool:
    """The test RANSAC applies, on the valid pixels' heights above the plane: enough points on
    it, (almost) none below it."""
    on = np.count_nonzero(valid & (np.abs(height) <= flt.floor_tolerance))
    below = np.count_nonzero(valid & (height < -flt.floor_tolerance))
    return on >= flt.min_pixels and below <= max(2, 0.01 * np.count_nonzero(valid))


# A wall found in an earlier frame is kept while it holds at least this share of the points it
# held then (people walking in front of it hide part of it).
WALL_STILL_FITS = 0.5
# Frames between two searches for walls while none is known: a curved or cluttered room has
# none to find, and the search costs as much as the rest of the isolation.
WALL_SEARCH_EVERY = 10
# A surface continues a person of the last frame when at least this share of it lies where
# they were (grown by PERSON_MOVES_PIXELS) and it holds at least this share of them.
CONTINUES_A_PERSON = 0.5
PERSON_MOVES_PIXELS = 2  # between two frames, in the overview (1.1 m/s at 1 m and 30 Hz)
LEVEL_UP = np.array([0.0, -1.0, 0.0])  # "up" in a level camera's optical frame (no floor known)
# A person coming in at a side of the image, cut there but not at the top, shows their head
# (_comes_in_at_a_side): the top HEAD_BAND_M of them off the image's edges (so narrower than
# what runs out at the side below it: a cabinet, a post or a wall is as wide at its top), at
# most HEAD_MAX_WIDTH_M wide (no table top or shelf) and at least HEAD_ABOVE_FLOOR_M above the
# floor (seated people too; no chair's back).
HEAD_BAND_M = 0.25
HEAD_MAX_WIDTH_M = 0.35
HEAD_ABOVE_FLOOR_M = 1.2
# Someone already close when first seen (the node started, or the camera turned to them): the
# image's top cuts their head, and none of the surface lies where a person of the last frame
# was. Such a surface, cut at the top only and within FIRST_SEEN_CLOSE_M, is taken when its width
# steps by FIRST_SEEN_WIDTH_STEP_M or more between bands FIRST_SEEN_BAND_M high (shoulders,
# arms, waist; a post or a cabinet is as wide all the way up), but only as unconfirmed: a real
# pillar's outline changes as much (the ITOP room's, 0.28 m wide at the top and 0.38 m below),
# so the pipeline keeps such a person only when the network is confident of them.
FIRST_SEEN_CLOSE_M = 2.0
FIRST_SEEN_BAND_M = 0.15
FIRST_SEEN_WIDTH_STEP_M = 0.07


class PersonExtractor:
    """Finds the person's pixels frame after frame in one camera's virtual view.

    Keeps the floor plane while it still fits the new frame, and the walls while each still
    holds WALL_STILL_FITS of its points: a camera on a robot or a tripod keeps its room, and
    the RANSACs then run only when the view changes (and without a wall, every
    WALL_SEARCH_EVERY frames). Keeps the last frame's people too (see people): feed it the
    frames of one camera in order.
    """

    def __init__(self, camera: PinholeCamera, flt: PersonFilter = PersonFilter(),
                 observed: np.ndarray | None = None):
        """observed: the virtual pixels that look into the source image (default all); its
        edges are the image's edges."""
        self.camera, self.filter = camera, flt
        self._edges, self._top_edge = _edges(np.ones(camera.shape, bool) if observed is None
                                             else observed)
        self._pixel_grid = camera.back_project_image(np.ones(camera.shape))  # (H, W, 3) at z = 1
        self.floor: tuple[np.ndarray, float] | None = None
        self.walls: list[tuple[np.ndarray, float]] = []  # as (n, d) planes
        self._wall_support: list[int] = []  # their points when found
        self._wall_search_in = 0  # frames until the next search while no wall is known
        # the last frame's people: a map of who was where (k + 1 for the k-th, 0 for nobody),
        # grown by PERSON_MOVES_PIXELS, and their sizes (pixels)
        self._people_before = (np.zeros(camera.shape, np.int8), np.zeros(0, int))
        self.unconfirmed: list[bool] = []  # the last people()'s, per mask: see people

    def __call__(self, depth: np.ndarray) -> np.ndarray:
        """(H, W) metres -> boolean mask of the person's pixels (all False when none is found):
        the closest person-like surface (the paper's rule)."""
        people = self.people(depth, limit=1)
        return people[0] if people else np.zeros(depth.shape, bool)

    @staticmethod
    def _extent(xyz: np.ndarray, label: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Surface k's lowest and highest x, y (metres)."""
        xy = xyz[label == k, :2]
        return xy.min(axis=0), xy.max(axis=0)

    @property
    def _up(self) -> np.ndarray:
        """Up in the camera's frame: the floor's normal, or a level camera's when no floor is
        known."""
        return self.floor[0] if self.floor is not None else LEVEL_UP

    def _walls(self, points: np.ndarray, labels: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """The walls (find_walls) in the largest surfaces running out of the image."""
        flt = self.filter
        on = labels >= 0
        counts = np.bincount(labels[on])
        border = np.bincount(labels[on], weights=self._edges[on], minlength=len(counts))
        room = np.flatnonzero((border > flt.max_border_pixels) & (counts >= flt.min_pixels))
        up = self._up
        walls = []
        for k in room[np.argsort(-counts[room], kind="stable")][:flt.max_walls]:
            # not again a wall found in a surface before (someone standing close to the
            # camera, from the image's top to its bottom, splits the wall behind them in two)
            surface = (labels == k) & off_the_walls(points, walls, flt)
            walls += find_walls(points, surface, self._edges, up, flt)
        return walls[:flt.max_walls]

    def _without_walls(self, depth: np.ndarray, points: np.ndarray,
                       valid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """valid without the walls (off_the_walls), and the surfaces' labels when a search made
        them and found no wall (else None: split again). The walls are the last frame's while
        each still holds WALL_STILL_FITS of its points, else searched for (_walls)."""
        flt = self.filter

        def support(wall):
            return np.count_nonzero(valid & (np.abs(points @ wall[0] + wall[1])
                                             <= flt.wall_tolerance))

        self._wall_search_in -= 1
        labels = None
        if any(support(wall) < WALL_STILL_FITS * held
               for wall, held in zip(self.walls, self._wall_support)) or \
                (not self.walls and self._wall_search_in <= 0):
            self._wall_search_in = WALL_SEARCH_EVERY
            labels = label_surfaces(depth, valid, flt.max_depth_step)
            self.walls = self._walls(points, labels)
            self._wall_support = [support(wall) for wall in self.walls]
        if self.walls:
            return valid & off_the_walls(points, self.walls, flt), None
        return valid, labels

    def _continuing(self, label: np.ndarray, on: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Which surfaces (label: each on pixel's) continue a person of the last frame
        (CONTINUES_A_PERSON): the same person come close enough to run out of the image at the
        top, or leaving it at a side. Both ways round, so that a thing a person touched does
        not stay a person when they step away from it."""
        where, sizes = self._people_before
        if not len(sizes):
            return np.zeros(len(counts), bool)
        # (surface, person) pixel counts in one bincount; column 0: where nobody was
        inside = np.bincount(label * (len(sizes) + 1) + where.ravel()[on],
                             minlength=len(counts) * (len(sizes) + 1)).reshape(len(counts), -1)
        return ((inside[:, 1:] >= CONTINUES_A_PERSON * counts[:, None])
                & (inside[:, 1:] >= CONTINUES_A_PERSON * sizes)).any(axis=1)

    def _comes_in_at_a_side(self, xyz: np.ndarray, label: np.ndarray, on_edge: np.ndarray,
                            k: int) -> bool:
        """Surface k (xyz, label, on_edge: each on pixel's), running out of the image at a side
        but not at its top, is a person come in at that side: their head in view (see
        HEAD_BAND_M)."""
        mine = label == k
        up, camera_height = self.floor if self.floor is not None else (LEVEL_UP, np.inf)
        # (no floor: any height)
        points = xyz[mine]
        height = points @ up
        head = height >= height.max() - HEAD_BAND_M
        return not on_edge[mine][head].any() and \
            np.ptp(points[head, 0]) <= HEAD_MAX_WIDTH_M and \
            height.max() + camera_height >= HEAD_ABOVE_FLOOR_M

    def _close_and_cut_at_the_top(self, xyz: np.ndarray, label: np.ndarray, k: int) -> bool:
        """Surface k (xyz, label: each on pixel's), close and running out of the image at its
        top only, is shaped like someone whose head the image cuts (see FIRST_SEEN_CLOSE_M)."""
        points = xyz[label == k]
        band = np.floor(points @ self._up / FIRST_SEEN_BAND_M).astype(int)
        widths = [np.ptp(np.quantile(points[band == b, 0], [0.05, 0.95]))
                  for b in np.unique(band)]  # (their 5-95 % spread: a ragged outline)
        return bool(np.any(np.abs(np.diff(widths)) >= FIRST_SEEN_WIDTH_STEP_M))

    def people(self, depth: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
        """(H, W) metres -> boolean masks of every person-like surface, closest first, at most
        limit of them besides as many unconfirmed ones (see below), each with the rest of its
        body and the small surfaces that touch it (see PersonFilter). A surface running out of
        the image (more than max_border_pixels on its edges) is the room, unless it continues
        a person of the last frame (_continuing) or runs out at a side only with a head in view
        (_comes_in_at_a_side), or at the top only, close and person-shaped
        (_close_and_cut_at_the_top): those are unconfirmed (self.unconfirmed, per mask), for
        the caller to keep or to forget (remember)."""
        masks = self._people(depth, limit)
        self.remember(masks)
        return masks

    def remember(self, masks: list[np.ndarray]) -> None:
        """The people of this frame, for the next frame's (_continuing): those of the last
        people(), less any a caller did not confirm."""
        where = np.zeros(self.camera.shape, np.int8)
        for k, mask in enumerate(masks):  # (masks never share a pixel)
            where[mask] = k + 1
        for _ in range(PERSON_MOVES_PIXELS):  # (where two meet, the farther one's)
            where = grow_by_neighbours(where)
        self._people_before = (where, np.array([np.count_nonzero(m) for m in masks], int))

    def _people(self, depth: np.ndarray, limit: int | None) -> list[np.ndarray]:
        flt = self.filter
        self.unconfirmed = []
        valid = (depth >= flt.min_depth) & (depth <= flt.max_depth)
        points = self._pixel_grid * depth[..., None]
        if flt.remove_floor:
            height = None if self.floor is None else points @ self.floor[0] + self.floor[1]
            if height is None or not _floor_still_fits(height, valid, flt):
                self.floor = find_floor(points, valid, flt)
                height = None if self.floor is None else points @ self.floor[0] + self.floor[1]
            if height is not None:
                valid &= height > flt.floor_tolerance  # the plane and anything below it
        labels = None
        if flt.remove_walls:  # (else self.walls stays empty: the filter is fixed per extractor)
            valid, labels = self._without_walls(depth, points, valid)
        if labels is None:
            labels = label_surfaces(depth, valid, flt.max_depth_step)
        # Every surface's size, edge contact and mean depth at once; extents for the large ones.
        on = labels.ravel() >= 0
        label = labels.ravel()[on]
        if label.size == 0:
            return []
        xyz = points.reshape(-1, 3)[on]
        counts = np.bincount(label)
        on_edge = self._edges.ravel()[on]
        border = np.bincount(label, weights=on_edge, minlength=len(counts))
        continuing = self._continuing(label, on, counts)
        border[continuing] = 0
        unconfirmed = np.zeros(len(counts), bool)
        distance = np.bincount(label, weights=xyz[:, 2], minlength=len(counts)) / counts
        cut = np.flatnonzero((border > flt.max_border_pixels) & (counts >= flt.min_pixels))
        if cut.size:  # a person coming in at a side, or already close?
            top = np.bincount(label, weights=self._top_edge.ravel()[on], minlength=len(counts))
            for k in cut[top[cut] == 0]:  # cut only at a side
                if self._comes_in_at_a_side(xyz, label, on_edge, k):
                    border[k] = 0  # (as a person continuing from the last frame)
            # Cut at the top only, close, and first seen: none of it where a person of the last
            # frame was (never a piece of someone followed, split off from them by their arm).
            seen_before = np.bincount(label, weights=self._people_before[0].ravel()[on] > 0,
                                      minlength=len(counts)) > 0
            for k in cut[(top[cut] > 0) & (border[cut] - top[cut] <= flt.max_border_pixels)
                         & (distance[cut] <= FIRST_SEEN_CLOSE_M) & ~seen_before[cut]]:
                if self._close_and_cut_at_the_top(xyz, label, k):
                    border[k] = 0
                    unconfirmed[k] = True  # for the caller to confirm (see people)
        across = np.bincount(label, weights=xyz[:, 0], minlength=len(counts)) / counts  # mean x
        candidates = np.flatnonzero((counts >= flt.min_pixels)
                                    & (border <= flt.max_border_pixels))
        taken = np.zeros(len(counts) + 1, bool)  # joined to a closer person (-1: the last entry)
        split_off = np.zeros(len(counts), bool)  # the rest of a closer person's body
        masks = []

        # Which surfaces touch which (4-neighbours, both ways round): (from, to) label pairs.
        pairs = np.concatenate([np.stack([labels[source], labels[to]]).reshape(2, -1)
                                for to, source in FROM_NEIGHBOURS], axis=1)
        pairs = pairs[:, (pairs[0] != pairs[1]) & (pairs.min(axis=0) >= 0)]

        def touching(members, besides=None):
            """The surfaces touching any of members, neither members nor besides."""
            lookup = np.zeros(len(counts), bool)
            lookup[members] = True
            hit = np.zeros(len(counts), bool)
            hit[pairs[1][lookup[pairs[0]]]] = True
            hit[members] = False
            if besides is not None:
                hit[besides] = False
            return np.flatnonzero(hit)

        room = border > flt.max_border_pixels  # running out of the image: walls, not people

        def in_front_of(body, mean_depth):
            """The surfaces touching the body, and those of them nearer than it."""
            near = touching(body)
            return near, near[distance[near] < mean_depth - flt.max_depth_step]

        def part_of_the_room(member, mean_depth):
            """Seen between nearer things at the depth of a wall that shows around them: a strip
            of the wall between two people (cut off by an arm above and the floor below, it is
            person-sized and off the image's edges), not a person. member: the body's surfaces
            as a lookup by label."""
            _, in_front = in_front_of(np.flatnonzero(member[:-1]), mean_depth)
            if not in_front.size:
                return False
            rows = np.flatnonzero(member[labels].any(axis=1))
            lookup = member.copy()
            lookup[in_front] = True
            group = lookup[labels]
            ring = grow_by_neighbours(group) & ~group  # around it and what is in front of it,
            ring[:rows[0]] = ring[rows[-1] + 1:] = False  # level with it
            wall = ring & (labels >= 0) & room[labels]
            return bool(wall.any()) and \
                abs(float(np.median(depth[wall])) - mean_depth) <= 2 * flt.max_depth_step

        def around(body, mean_depth, x_low, x_high):
            """The surfaces touching the body, and those touching it only across a surface in
            front of it (the part of an arm beyond another person who walks in front, the chest
            above a forearm held across the waist), within max_hidden_gap sideways."""
            near, in_front = in_front_of(body, mean_depth)
            if not in_front.size:
                return near
            beyond = touching(in_front, np.concatenate([near, body]))
            beyond = beyond[(across[beyond] >= x_low - flt.max_hidden_gap)
                            & (across[beyond] <= x_high + flt.max_hidden_gap)]
            return np.concatenate([near, beyond])

        for k in candidates[np.argsort(distance[candidates], kind="stable")]:
            if split_off[k] or (unconfirmed[k] and limit is not None
                                and self.unconfirmed.count(True) == limit):
                continue
            low, high = k_low, k_high = self._extent(xyz, label, k)
            if (high - low)[1] > flt.max_height or (high - low)[0] > flt.max_width:
                continue  # joining only grows it
            around_k = around([k], distance[k], low[0], high[0])
            # The rest of the body, when a forearm held across it cut the body in two: stacked
            # on it (its middle within max_split_offset sideways), at its depth, and the two
            # together still person-sized and off the image's edges.
            body = [k]
            for j in around_k[(np.abs(across[around_k] - across[k]) <= flt.max_split_offset)
                              & (np.abs(distance[around_k] - distance[k])
                                 <= 2 * flt.max_depth_step) & ~split_off[around_k]
                              & ~taken[around_k]]:
                j_low, j_high = self._extent(xyz, label, j)
                size = np.maximum(high, j_high) - np.minimum(low, j_low)
                if size[1] <= flt.max_height and size[0] <= flt.max_width and \
                        border[body].sum() + border[j] <= flt.max_border_pixels:
                    body.append(j)
                    low, high = np.minimum(low, j_low), np.maximum(high, j_high)
            pixels, depth_k = counts[k], distance[k]
            member = np.zeros(len(counts) + 1, bool)  # a lookup by label (-1: the last entry)
            member[body] = True
            if len(body) > 1:
                whole = member[labels]
                ring = grow_by_neighbours(whole) & ~whole
                # Not the room seen through the gaps between the arms and the legs: pieces
                # mostly enclosed by something nearer.
                nearer = ring & valid & (depth < distance[k] - 2 * flt.max_depth_step)
                if np.count_nonzero(nearer) <= 0.5 * np.count_nonzero(ring):
                    split_off[body] = True
                    pixels = counts[body].sum()
                    depth_k = (distance[body] * counts[body]).sum() / pixels
                    around_k = around(body, depth_k, low[0], high[0])
                else:
                    member[body[1:]] = False
                    low, high = k_low, k_high
            if (high - low)[1] < flt.min_height and not (continuing[k] or unconfirmed[k]):
                continue  # (a person come close shows less than min_height; see unconfirmed)
            if part_of_the_room(member, depth_k):
                continue
            # Small surfaces touching it, in front of it or just behind (see PersonFilter),
            # and not a person themselves or already joined to a closer one.
            joins = around_k[(distance[around_k] >= depth_k - flt.max_reach)
                             & (distance[around_k] <= depth_k + flt.max_behind)
                             & (counts[around_k] <= pixels // 3) & ~taken[around_k]]
            taken[joins] = True
            member[joins] = True
            masks.append(member[labels])
            self.unconfirmed.append(bool(unconfirmed[k]))
            # Only those sure to be kept count: a caller who drops an unconfirmed surface (a
            # pillar close by) still gets the people beyond it.
            if limit is not None and self.unconfirmed.count(False) == limit:
                break
        return masks


def extract_person(depth: np.ndarray, camera: PinholeCamera, flt: PersonFilter = PersonFilter(),
                   observed: np.ndarray | None = None) -> np.ndarray:
    """One frame, no memory: see PersonExtractor."""
    return PersonExtractor(camera, flt, observed)(depth)
