"""Skeleton graphs of landmark layouts.

Edges come from MediaPipe's own connection lists (pose, hands, face contours and
mesh) plus the links MediaPipe leaves out between its models: pose wrist to
hand wrist, nose to shoulders and mouth, and each face part to its pose point.
For a subset, the graph is contracted: two kept landmarks are linked when a
path joins them through dropped landmarks only, so ``NOSE`` links to
``LEFT_EYE`` when the eye's inner corner is dropped (the face-mesh
triangulation is used only between kept points).

The spatial partitions follow ST-GCN (Yan et al., 2018, arXiv:1801.07455):
neighbours at the same hop distance from the centre as the node itself
("root", including the node), nearer to it ("centripetal") and farther from it
("centrifugal"), each a column-normalised adjacency, stacked as ``(K, V, V)``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from slr_pose.errors import LayoutError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.layout import Layout

#: Preferred centre nodes, first present wins.
CENTRES = ("pose/NOSE", "pose/LEFT_SHOULDER", "pose/RIGHT_SHOULDER", "right_hand/WRIST", "left_hand/WRIST")

# Links MediaPipe's connection lists lack, by name (either end may be absent).
_BRIDGES = (
    ("pose/NOSE", "pose/LEFT_SHOULDER"),
    ("pose/NOSE", "pose/RIGHT_SHOULDER"),
    ("pose/NOSE", "pose/MOUTH_LEFT"),
    ("pose/NOSE", "pose/MOUTH_RIGHT"),
    ("pose/LEFT_WRIST", "left_hand/WRIST"),
    ("pose/RIGHT_WRIST", "right_hand/WRIST"),
)
# Face part -> pose landmark it hangs from (linked at the part's first point).
_FACE_ANCHORS = {
    "LIPS": "pose/NOSE",
    "LEFT_EYE": "pose/LEFT_EYE",
    "LEFT_EYEBROW": "pose/LEFT_EYE",
    "RIGHT_EYE": "pose/RIGHT_EYE",
    "RIGHT_EYEBROW": "pose/RIGHT_EYE",
    "FACE_OVAL": "pose/NOSE",
}


def _named_edges() -> list[tuple[str, str]]:
    """The Holistic graph without the face mesh triangulation, by landmark name."""
    edges = mpn.named_connections("pose") + mpn.named_connections("left_hand") + mpn.named_connections("right_hand")
    for part in mpn.FACE_CONTOUR_PARTS:  # each face contour hangs from the pose point nearest to it
        edges += mpn.named_connections("face", (part,))
        edges.append((_FACE_ANCHORS[part], f"face/{mpn.face_part_points((part,))[0]}"))
    edges += list(_BRIDGES)
    return edges


@dataclass(frozen=True)
class Skeleton:
    """The graph of a layout: undirected edges between its landmarks.

    Attributes:
        layout: the landmarks (nodes), in order.
        edges: ``(E, 2)`` int64, each undirected edge once, ``i < j``.
        center: index of the centre node.
    """

    layout: Layout
    edges: np.ndarray
    center: int

    @classmethod
    def from_layout(cls, layout: Layout) -> "Skeleton":
        """The Holistic graph contracted to ``layout``'s landmarks.

        Components that no MediaPipe link joins to the centre (a face without
        a pose, two hands without arms) are joined by their first node to the
        centre, so every node has a finite hop distance.
        """
        if layout.num_landmarks == 0:
            raise LayoutError(f"layout {layout.name!r} has no landmarks")
        kept = {n: i for i, n in enumerate(layout.names)}
        adjacency: dict[str, set[str]] = {}
        for a, b in _named_edges():
            adjacency.setdefault(a, set()).add(b)
            adjacency.setdefault(b, set()).add(a)
        edges: set[tuple[int, int]] = set()
        for name, i in kept.items():
            # walk through dropped landmarks until kept ones are met
            seen, queue = {name}, deque(adjacency.get(name, ()))
            while queue:
                other = queue.popleft()
                if other in seen:
                    continue
                seen.add(other)
                if other in kept:
                    j = kept[other]
                    edges.add((min(i, j), max(i, j)))
                else:
                    queue.extend(adjacency.get(other, ()))
        # The mesh triangulation links kept face points directly only: a path
        # through dropped mesh points would join every face point to every other.
        for a, b in mpn.FACE_TESSELATION:
            i, j = kept.get(f"face/{a}"), kept.get(f"face/{b}")
            if i is not None and j is not None:
                edges.add((min(i, j), max(i, j)))
        center = next((kept[c] for c in CENTRES if c in kept), 0)
        edges |= _join_components(layout.num_landmarks, edges, center)
        arr = np.array(sorted(edges), dtype=np.int64).reshape(-1, 2)
        return cls(layout, arr, center)

    @property
    def num_nodes(self) -> int:
        return self.layout.num_landmarks

    @cached_property
    def edge_index(self) -> np.ndarray:
        """``(2, 2E)`` int64, both directions of every edge (torch-geometric's convention)."""
        return np.concatenate([self.edges.T, self.edges[:, ::-1].T], axis=1)

    @cached_property
    def hop_distance(self) -> np.ndarray:
        """``(V, V)`` float: shortest path length in edges (inf when unreachable)."""
        v = self.num_nodes
        dist = np.full((v, v), np.inf)
        neighbours = [[] for _ in range(v)]
        for a, b in self.edges:
            neighbours[a].append(b)
            neighbours[b].append(a)
        for s in range(v):
            dist[s, s] = 0
            queue = deque([s])
            while queue:
                u = queue.popleft()
                for w in neighbours[u]:
                    if dist[s, w] == np.inf:
                        dist[s, w] = dist[s, u] + 1
                        queue.append(w)
        return dist

    @cached_property
    def parents(self) -> np.ndarray:
        """``(V,)`` int64: each node's neighbour one hop nearer the centre (the centre: itself).

        Bones are ``node - parent``; the choice among equally near neighbours
        is the lowest index, so it is stable.
        """
        d = self.hop_distance[self.center]
        parents = np.arange(self.num_nodes)
        for a, b in self.edges:
            for child, parent in ((a, b), (b, a)):
                if d[parent] == d[child] - 1 and (parents[child] == child or parent < parents[child]):
                    parents[child] = parent
        return parents

    def adjacency(self, strategy: str = "spatial") -> np.ndarray:
        """Normalised adjacency as ``(K, V, V)`` float32, ``A[k, i, j]``: j aggregates from i.

        Args:
            strategy: ``"spatial"`` (ST-GCN's three partitions: root,
                centripetal, centrifugal; K=3) or ``"uniform"`` (one normalised
                adjacency with self links; K=1).
        """
        v = self.num_nodes
        a = np.eye(v)
        a[self.edges[:, 0], self.edges[:, 1]] = 1
        a[self.edges[:, 1], self.edges[:, 0]] = 1
        norm = _normalize_digraph(a)
        if strategy == "uniform":
            return norm[None].astype(np.float32)
        if strategy != "spatial":
            raise ValueError(f"unknown adjacency strategy {strategy!r}; use 'spatial' or 'uniform'")
        d = self.hop_distance[:, self.center]
        root, close, far = np.zeros((3, v, v))
        i, j = np.nonzero(a)
        # as in ST-GCN's graph.py: A_close[i, j] when i is farther from the centre than j
        same, closer = d[i] == d[j], d[i] > d[j]
        further = ~same & ~closer
        root[i[same], j[same]] = norm[i[same], j[same]]
        close[i[closer], j[closer]] = norm[i[closer], j[closer]]
        far[i[further], j[further]] = norm[i[further], j[further]]
        return np.stack([root, close, far]).astype(np.float32)


def _normalize_digraph(a: np.ndarray) -> np.ndarray:
    """Scale each column by 1 / its sum (ST-GCN's ``normalize_digraph``)."""
    deg = a.sum(0)
    scale = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    return a * scale[None, :]


def _join_components(v: int, edges: set[tuple[int, int]], center: int) -> set[tuple[int, int]]:
    parent = list(range(v))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    extra: set[tuple[int, int]] = set()
    for node in range(v):
        if find(node) != find(center):
            extra.add((min(node, center), max(node, center)))
            parent[find(node)] = find(center)
    return extra


def skeleton_for(layout: Layout) -> Skeleton:
    """Shorthand for :meth:`Skeleton.from_layout`."""
    return Skeleton.from_layout(layout)
