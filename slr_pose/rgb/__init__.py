"""The RGB stream: pose-guided crops of the same samples the pose streams read.

Stage of the pipeline: video + stored landmarks -> signer crops (cached as
JPEG in HDF5) -> clips ``(C, T, H, W)`` for a video encoder
(:mod:`slr_pose.models.video_encoders`). Samples, ids, labels, languages and
splits are the pose store's.

* :mod:`~slr_pose.rgb.crop`: :func:`signer_box` (the signer's square from the
  landmarks), :func:`crop_frames`.
* :mod:`~slr_pose.rgb.cache`, :mod:`~slr_pose.rgb.cache_build`, :mod:`~slr_pose.rgb.cache_writer`:
  :func:`build_cache` decodes and crops every sample once (resumable, crash
  safe, a failure report); :class:`FrameCache` reads clips back.
* :mod:`~slr_pose.rgb.clips`: :class:`ClipSampling` (T frames, stride, random
  or centred start) and :class:`VideoAugment` -> normalised float32 clips.

Example::

    build_cache("poses.h5", "frames.h5", CropSettings(side=112))
    cache = FrameCache("frames.h5")
    idx = ClipSampling(16, 2).indices(cache.length("doctor_001"))
    x = to_model_input(cache.clip("doctor_001", idx))   # (3, 16, 112, 112) float32

Only NumPy, OpenCV and h5py are needed here; torchvision (the ``[rgb]``
extra) only for the video encoders.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Box": "crop", "clamp": "crop", "crop_frames": "crop", "signer_box": "crop",
    "CacheError": "cache", "FrameCache": "cache", "failure_report_path": "cache",
    "CacheSummary": "cache_build", "CropSettings": "cache_build", "build_cache": "cache_build", "crop_video": "cache_build",
    "ClipSampling": "clips", "FlipPolicy": "clips", "VideoAugment": "clips", "sign_range": "clips",
    "to_model_input": "clips",
})  # fmt: skip
