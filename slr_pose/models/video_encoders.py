"""torchvision's video networks as encoders of the RGB stream, with the pose encoders' API.

The backbones are torchvision's own, unchanged (``mvit_v2_s``, ``r3d_18``,
``s3d``); this module only reads their feature grid before the classifier and
pools it over space, keeping time, so a :class:`~slr_pose.models.Recognizer`
puts one classification head per sign language on top exactly as it does for
a pose encoder.

* MViTv2-S: Li et al., "MViTv2: Improved Multiscale Vision Transformers for
  Classification and Detection", CVPR 2022 (arXiv:2112.01526), the RGB model
  of Logos. Its patch embedding halves time and no later stage pools time, so
  ``T' = ceil(T / 2)``; its tokens after the last block and norm (class token
  dropped) are averaged over the ``ceil(side / 32)``-sided spatial grid: D = 768.
* R3D-18: Tran et al., "A Closer Look at Spatiotemporal Convolutions for
  Action Recognition", CVPR 2018 (arXiv:1711.11248). Three stride-2 stages:
  ``T' = ceil(T / 8)``, D = 512.
* S3D: Xie et al., "Rethinking Spatiotemporal Feature Learning", ECCV 2018
  (arXiv:1712.04851). ``T' = floor(ceil(ceil(T / 2) / 2) / 2)`` (the last
  pooling is unpadded), D = 1024; needs ``T >= 5``.

Layouts: input ``x`` ``(N, 3, T, H, W)`` float32, normalised as
:func:`slr_pose.rgb.clips.to_model_input` does (Kinetics mean and std);
features ``(N, T', D)``. Clips are padded by repeating their last frame, never
with blank frames, so ``masks_padding`` is False: a padded step is a real
(repeated) image; the mask only tells the pooling which steps to count.

Weights: ``pretrained`` is the path of a state dict of the torchvision model
(the file torchvision downloads for ``KINETICS400_V1``, or one saved with
``torch.save(model.state_dict(), path)``; classifier weights are ignored), or
``"kinetics400"`` to let torchvision download it where the machine is online.
torchvision is imported only when an encoder is built: it is the ``[rgb]``
extra.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from slr_pose.errors import SlrPoseError
from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.registry import register_model

INSTALL_HINT = 'pip install "slr-pose[rgb]"'
#: ``pretrained`` value that asks torchvision to download its Kinetics-400 weights.
KINETICS400 = "kinetics400"


def torchvision_video():
    """``torchvision.models.video``, or one line saying how to install it."""
    try:
        from torchvision.models import video
    except (ImportError, RuntimeError, OSError) as e:  # a torchvision built for another torch fails at import
        reason = " ".join(str(e).split())[:120]
        raise SlrPoseError(f"video encoders need torchvision ({reason}); install it with: {INSTALL_HINT}") from None
    return video


class VideoEncoder(PoseEncoder):
    """Base class: a torchvision backbone as ``(N, 3, T, H, W)`` -> ``(N, T', D)`` features.

    Subclasses build :attr:`backbone` (its classifier replaced by an identity),
    set ``num_features``, ``temporal_stride``, :attr:`min_frames`,
    :attr:`head_prefix` and implement :meth:`grid` and :meth:`output_steps`.

    Args:
        in_channels: must be 3 (RGB).
        num_frames: T of the clips the encoder is meant for, kept for the
            data pipeline and exports (any T of at least :attr:`min_frames` runs).
        side: H = W of those clips (same remark).
    """

    masks_padding = False
    #: Fewest frames the backbone accepts.
    min_frames = 1
    #: Key prefix of the torchvision classifier, whose weights a pretrained file may hold.
    head_prefix = ""
    #: torchvision's builder and weights enum, by name.
    arch = ""
    weights_enum = ""

    def __init__(self, in_channels: int = 3, num_frames: int = 16, side: int = 224) -> None:
        if in_channels != 3:
            raise SlrPoseError(f"video encoders read RGB frames: in_channels must be 3, not {in_channels}")
        if num_frames < self.min_frames or side < 16:
            raise SlrPoseError(f"{self.arch} needs at least {self.min_frames} frames of 16 pixels, "
                               f"not num_frames={num_frames}, side={side}")
        super().__init__(in_channels, 1)  # a video has no landmark axis: V = 1 keeps the base class's checks meaningful
        self.num_frames = int(num_frames)
        self.side = int(side)

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, T, H, W)`` -> the backbone's last feature grid ``(N, D, T', H', W')``."""
        raise NotImplementedError

    def output_steps(self, frames: int) -> int:
        """T' for an input of T = ``frames``."""
        raise NotImplementedError

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, 3, T, H, W)``, ``(N, T)`` bool -> ``(N, T', D)``: the grid averaged over space."""
        self.check_input(x, frame_mask)
        return self.grid(x).mean((-2, -1)).transpose(1, 2)  # (N, D, T', H', W') -> (N, T', D)

    def feature_mask(self, frame_mask: torch.Tensor | None) -> torch.Tensor | None:
        """``(N, T)`` -> ``(N, T')``: step ``t'`` is real when frame ``t' * temporal_stride`` is."""
        if frame_mask is None:
            return None
        return frame_mask[:, :: self.temporal_stride][:, : self.output_steps(frame_mask.shape[1])]

    def check_input(self, x: torch.Tensor, frame_mask: torch.Tensor | None) -> None:
        if x.dim() != 5 or x.shape[1] != 3 or x.shape[2] < self.min_frames:
            raise SlrPoseError(f"input of shape {tuple(x.shape)} is not (N, 3, T >= {self.min_frames}, H, W)")
        if frame_mask is not None and (frame_mask.shape != (x.shape[0], x.shape[2]) or frame_mask.dtype != torch.bool):
            raise SlrPoseError(f"frame_mask of shape {tuple(frame_mask.shape)} and dtype {frame_mask.dtype} "
                               f"is not bool (N={x.shape[0]}, T={x.shape[2]})")

    def load_pretrained(self, pretrained: str) -> None:
        """Load torchvision weights from a file (or download them, see the module docstring)."""
        if not pretrained:
            return
        if pretrained == KINETICS400:
            state, where = self._download(), f"torchvision's {self.weights_enum}.KINETICS400_V1"
        else:
            state, where = _read_state_dict(Path(pretrained)), pretrained
        state = {_strip(k): v for k, v in state.items()}
        state = {k: v for k, v in state.items() if not k.startswith(self.head_prefix)}
        target = self.backbone.state_dict()
        missing, unexpected = sorted(set(target) - set(state)), sorted(set(state) - set(target))
        if missing or unexpected:
            detail = f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
            raise SlrPoseError(f"{where} does not fit {self.arch} ({detail}, {len(missing)} missing, "
                               f"{len(unexpected)} unexpected): is it a {self.arch} state dict?")
        wrong = [k for k, v in state.items() if v.shape != target[k].shape]
        if wrong:
            k = wrong[0]
            raise SlrPoseError(f"{where}: weight {k!r} of {self.arch} has shape {tuple(state[k].shape)}, "
                               f"expected {tuple(target[k].shape)}")
        self.backbone.load_state_dict(state)

    def _download(self) -> dict[str, torch.Tensor]:
        weights = getattr(torchvision_video(), self.weights_enum).KINETICS400_V1
        try:
            return weights.get_state_dict(progress=False, check_hash=True)
        except Exception as e:  # noqa: BLE001 - offline, a proxy, a broken cache: one line either way
            reason = " ".join(str(e).split())[:120] or type(e).__name__
            raise SlrPoseError(f"cannot download the Kinetics-400 weights of {self.arch} ({reason}); "
                               "offline, pass the path of a local weights file as pretrained") from None

    def extra_repr(self) -> str:
        return (f"arch={self.arch}, num_frames={self.num_frames}, side={self.side}, "
                f"num_features={self.num_features}, temporal_stride={self.temporal_stride}")


def _strip(key: str) -> str:
    """Keys of this encoder's (or a Recognizer's) state dict, as the bare backbone names them."""
    for prefix in ("encoder.backbone.", "backbone."):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise SlrPoseError(f"pretrained weights {path} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's bad input here
        raise SlrPoseError(f"{path} is not a readable torch weights file ({type(e).__name__})") from None
    if not isinstance(state, Mapping) or not state or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise SlrPoseError(f"{path} holds no state dict (a mapping of weight names to tensors)")
    return dict(state)


# --------------------------------------------------------------------------- the backbones


class MViTEncoder(VideoEncoder):
    """torchvision's MViTv2-S; features are its final tokens averaged over space.

    Shapes:
        ``(N, 3, T, H, W)`` -> ``(N, ceil(T / 2), 768)``, any T >= 1 and side
        >= 16. torchvision builds MViTv2-S for 16 x 224 only (Kinetics); its
        relative position tables are sized for that token grid and resized
        linearly by torchvision's own attention for any other input (16 x 112
        or 16 x 160 for CPU work), so Kinetics weights load at every size.
    """

    arch, weights_enum, head_prefix = "mvit_v2_s", "MViT_V2_S_Weights", "head."
    min_frames = 1

    def __init__(self, in_channels: int = 3, num_frames: int = 16, side: int = 224, pretrained: str = "",
                 drop_path: float = 0.2) -> None:
        super().__init__(in_channels, num_frames, side)
        video = torchvision_video()
        self.backbone = video.mvit_v2_s(stochastic_depth_prob=drop_path)
        self.backbone.head = nn.Identity()
        self.num_features = self.backbone.norm.normalized_shape[0]
        self.temporal_stride = self.backbone.conv_proj.stride[0]
        self.load_pretrained(pretrained)

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        bb = self.backbone
        x = bb.conv_proj(x)  # (N, 96, T', H/4, W/4)
        thw = tuple(x.shape[2:])
        x = bb.pos_encoding(x.flatten(2).transpose(1, 2))  # (N, 1 + T'H'W', 96): class token first
        # torchvision's forward takes the token grid from the size it was built for; this one from the input
        for block in bb.blocks:
            x, thw = block(x, thw)
        x = bb.norm(x)[:, 1:]  # (N, T'H'W', 768), class token dropped
        n, _, d = x.shape
        return x.transpose(1, 2).reshape(n, d, *thw)  # (N, D, T', H', W')

    def output_steps(self, frames: int) -> int:
        return math.ceil(frames / self.temporal_stride)


class R3DEncoder(VideoEncoder):
    """torchvision's R3D-18; features are ``layer4``'s output averaged over space.

    Shapes:
        ``(N, 3, T, H, W)`` -> ``(N, ceil(T / 8), 512)``.
    """

    arch, weights_enum, head_prefix = "r3d_18", "R3D_18_Weights", "fc."

    def __init__(self, in_channels: int = 3, num_frames: int = 16, side: int = 112, pretrained: str = "") -> None:
        super().__init__(in_channels, num_frames, side)
        self.backbone = torchvision_video().r3d_18()
        self.backbone.fc = nn.Identity()
        self.num_features = 512
        self.temporal_stride = 8
        self.load_pretrained(pretrained)

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        bb = self.backbone
        x = bb.stem(x)
        return bb.layer4(bb.layer3(bb.layer2(bb.layer1(x))))

    def output_steps(self, frames: int) -> int:
        for _ in range(3):  # three centred stride-2 convolutions
            frames = math.ceil(frames / 2)
        return frames


class S3DEncoder(VideoEncoder):
    """torchvision's S3D; features are its ``features`` block averaged over space.

    Shapes:
        ``(N, 3, T, H, W)`` -> ``(N, floor(ceil(ceil(T / 2) / 2) / 2), 1024)``, T >= 5.
    """

    arch, weights_enum, head_prefix = "s3d", "S3D_Weights", "classifier."
    min_frames = 5

    def __init__(self, in_channels: int = 3, num_frames: int = 16, side: int = 224, pretrained: str = "") -> None:
        super().__init__(in_channels, num_frames, side)
        self.backbone = torchvision_video().s3d()
        self.backbone.classifier = nn.Identity()
        self.num_features = 1024
        self.temporal_stride = 8
        self.load_pretrained(pretrained)

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone.features(x)

    def output_steps(self, frames: int) -> int:
        return math.ceil(math.ceil(frames / 2) / 2) // 2  # two padded poolings, then an unpadded one


@register_model(modality="rgb")
def mvit_v2_s(in_channels: int = 3, num_frames: int = 16, side: int = 224, pretrained: str = "",
              drop_path: float = 0.2) -> MViTEncoder:
    """MViTv2-S (34.2 M parameters without its classifier), Logos' RGB encoder."""
    return MViTEncoder(in_channels, num_frames, side, pretrained, drop_path)


@register_model(modality="rgb")
def r3d_18(in_channels: int = 3, num_frames: int = 16, side: int = 112, pretrained: str = "") -> R3DEncoder:
    """R3D-18 (33.2 M parameters), Kinetics-trained at 16 x 112."""
    return R3DEncoder(in_channels, num_frames, side, pretrained)


@register_model(modality="rgb")
def s3d(in_channels: int = 3, num_frames: int = 16, side: int = 224, pretrained: str = "") -> S3DEncoder:
    """S3D (7.9 M parameters), Kinetics-trained at 16 x 224."""
    return S3DEncoder(in_channels, num_frames, side, pretrained)
