"""What a recogniser needs besides its weights: classes, landmarks, preprocessing, extractor settings.

An exported graph carries this in its JSON sidecar (``m.onnx.json``, written
by ``slr-pose export``); a run directory in its checkpoint's metadata. Both
give a :class:`ModelCard`, so every later step (MediaPipe settings, the
layout check, the normalisation) is the same for either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slr_pose.errors import LayoutError, SlrPoseError
from slr_pose.graphs.normalisation.pipeline import PreprocessConfig, Preprocessor
from slr_pose.keypoints.extraction.video import ExtractOptions
from slr_pose.keypoints.layout import Layout


@dataclass(frozen=True)
class ModelCard:
    """The description of a trained isolated-sign recogniser.

    Attributes:
        task: ``"islr"`` (the runtime recognises isolated signs only).
        languages: language tags in head order (the model's ``language`` input is an index into it).
        classes: ``{language: class names}``, in logit order.
        landmarks: the model's ``V`` landmark names, in node order.
        preprocess: the :class:`PreprocessConfig` fields the model was trained with.
        extractors: the training stores' extractor provenance (backend, version, settings).
        source: the file or folder it came from (for messages).
    """

    task: str
    languages: tuple[str, ...]
    classes: dict[str, tuple[str, ...]]
    landmarks: tuple[str, ...]
    preprocess: dict[str, Any]
    extractors: tuple[dict, ...] = ()
    source: str = ""

    @classmethod
    def from_mapping(cls, d: Mapping, source: str) -> "ModelCard":
        """Build from a sidecar or a checkpoint's metadata; anything unusable is one line naming ``source``.

        Raises:
            SlrPoseError: a continuous-signing or RGB model, or fields that are missing or malformed.
        """
        task, modality = d.get("task", "islr"), d.get("modality", "pose")
        if task != "islr":
            raise SlrPoseError(f"{source} is a {task} model; the runtime recognises isolated signs (islr) only")
        if modality != "pose":
            raise SlrPoseError(f"{source} reads {modality} clips; the runtime runs landmark (pose) models only")
        classes, landmarks, preprocess = d.get("classes", d.get("labels")), d.get("landmarks"), d.get("preprocess")
        if not isinstance(classes, Mapping) or not classes or not all(_names(v) for v in classes.values()):
            raise SlrPoseError(f"{source}: 'classes' is not a mapping of languages to class lists")
        if not _names(landmarks) or not landmarks:
            raise SlrPoseError(f"{source}: 'landmarks' is not a list of landmark names")
        if not isinstance(preprocess, Mapping):
            raise SlrPoseError(f"{source}: 'preprocess' is not a mapping")
        languages = tuple(d.get("languages") or classes)
        if sorted(languages) != sorted(classes):
            raise SlrPoseError(f"{source}: 'languages' {list(languages)} do not match the languages of 'classes'")
        extractors = d.get("extractors") or ()
        card = cls("islr", languages, {k: tuple(v) for k, v in classes.items()}, tuple(landmarks), dict(preprocess),
                   tuple(e for e in extractors if isinstance(e, Mapping)), source)
        card.config  # a bad preprocessing dict fails here, not on the first frame
        return card

    @classmethod
    def read(cls, path: str | Path) -> "ModelCard":
        """The sidecar JSON of an exported graph."""
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SlrPoseError(f"no {path.name} beside the graph: 'slr-pose export' writes the graph and this "
                               "sidecar together") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SlrPoseError(f"{path} is not a readable JSON sidecar ({type(e).__name__})") from None
        if not isinstance(d, Mapping):
            raise SlrPoseError(f"{path} is not a JSON object")
        return cls.from_mapping(d, str(path))

    @property
    def config(self) -> PreprocessConfig:
        try:
            return PreprocessConfig.from_dict(self.preprocess)
        except SlrPoseError as e:
            raise SlrPoseError(f"{self.source}: {e}") from None

    def language(self, name: str = "") -> str:
        """``name`` when the model has a head for it; the only language when ``name`` is empty."""
        if name:
            if name not in self.classes:
                raise SlrPoseError(f"language {name!r} has no head in this model (it knows {', '.join(self.languages)})")
            return name
        if len(self.languages) > 1:
            raise SlrPoseError(f"this model knows several languages ({', '.join(self.languages)}): choose one with --language")
        return self.languages[0]

    def extract_options(self) -> ExtractOptions:
        """MediaPipe as the training videos were extracted (see :meth:`ExtractOptions.like`)."""
        return ExtractOptions.like(self.extractors, self.landmarks)

    def preprocessor(self, layout: Layout, **overrides: Any) -> Preprocessor:
        """The model's normalisation for landmarks of ``layout`` (``overrides``: config fields to change).

        Raises:
            SlrPoseError: when ``layout`` cannot give the model's landmarks in the model's order.
        """
        config = PreprocessConfig.from_dict({**self.preprocess, **overrides})
        try:
            pre = Preprocessor(layout, config)
        except LayoutError as e:
            raise SlrPoseError(f"{self.source} reads landmarks that the extractor's layout {layout.name!r} lacks ({e})") from None
        got = pre.layout.names
        if got != self.landmarks:
            odd = sorted(set(got) ^ set(self.landmarks))
            why = f"{odd[0]!r} is in only one of them" if odd else "the same landmarks in another order"
            raise SlrPoseError(f"layout {layout.name!r} does not give the {len(self.landmarks)} landmarks {self.source} "
                               f"was trained on (subset {config.subset!r}: {why})")
        return pre


def _names(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
