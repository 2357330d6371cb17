"""From stored landmarks to model tensors: skeleton graphs and the normalisation pipeline.

- :mod:`~slr_pose.graphs.subsets`, :mod:`~slr_pose.graphs.skeleton`: named
  landmark subsets and their graphs (edges, centre, parents, adjacency);
- :mod:`~slr_pose.graphs.pipeline`: :class:`Preprocessor`, the one call from
  a stored sample to ``(C, T, V)`` model input; :mod:`~slr_pose.graphs.batch`
  pads a batch;
- its parts: :mod:`~slr_pose.graphs.normalize` (body frame),
  :mod:`~slr_pose.graphs.timing` (which frames), :mod:`~slr_pose.graphs.streams`,
  :mod:`~slr_pose.graphs.mirror` and :mod:`~slr_pose.graphs.face_mirror`,
  :mod:`~slr_pose.graphs.augment`;
- :mod:`~slr_pose.graphs.kernels` (numba) and :mod:`~slr_pose.graphs.reference`
  (their NumPy twins, for tests and benchmarks).

Nothing is imported here, so ``import slr_pose.graphs.skeleton`` stays free of numba.
"""
