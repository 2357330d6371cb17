"""Stage 2: from stored landmarks to model tensors: skeleton graphs, streams, normalisation, batches.

- :mod:`.subsets`, :mod:`.skeleton`: named landmark subsets and their graphs
  (edges, centre, parents, ST-GCN partitions, a torch-geometric ``edge_index``);
- :mod:`.streams`: joint, bone and motion streams over a skeleton;
- :mod:`.normalisation`: :class:`~.normalisation.Preprocessor`, a stored sample to
  ``(C, T, V)`` model input (numba kernels and their NumPy twins);
- :mod:`.batch`: padding a list of samples into ``(N, C, T, V)``.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Skeleton": "skeleton", "skeleton_for": "skeleton", "select": "subsets", "subset_names": "subsets",
    "Batch": "batch", "collate": "batch",
    "Preprocessor": "normalisation", "PreprocessConfig": "normalisation", "Processed": "normalisation",
})  # fmt: skip
