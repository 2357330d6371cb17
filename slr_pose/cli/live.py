"""``slr-pose live``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click


@click.command()
@click.argument("model", type=click.Path())
@click.argument("source", required=False)
@click.option("--camera", type=click.IntRange(min=0), default=None, help="Read camera N instead of a video or URL.")
@click.option("--realtime", is_flag=True,
              help="Read a video file as if it were a camera: at its frame rate by the wall clock, dropping the "
                   "frames there is no time for.")
@click.option("--language", default="", help="Which language's head to use (needed when the model has several).")
@click.option("--window", default=None, type=click.FloatRange(min=0.1, max=60),
              help="Seconds of landmarks each decision sees, about one sign [1.5].")
@click.option("--hop", default=None, type=click.FloatRange(min=0.01, max=60),
              help="Seconds of stream between decisions [0.1].")
@click.option("--threshold", default=None, type=click.FloatRange(0, 1, min_open=True),
              help="Probability the top class needs in a window to count for a sign [0.6].")
@click.option("--min-windows", default=None, type=click.IntRange(min=1),
              help="Consecutive windows above --threshold before a sign is emitted [3].")
@click.option("--release", default=None, type=click.FloatRange(0, 1),
              help="A sign is emitted again only after its probability fell below this [0.4, at most --threshold].")
@click.option("--centre", default=None, type=click.FloatRange(0, 0.5),
              help="With a boundary-head model: a window counts for a sign only when the sign the head places "
                   "in it has its middle within this many window lengths of the window's middle.")
@click.option("--idle-class", default=None,
              help="Name of the model's no-sign class, if it has one: it never emits and breaks a run [idle].")
@click.option("-k", "--top-k", default=None, type=click.IntRange(min=1), help="Classes drawn with --show [3].")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1),
              help="Threads of the model (MediaPipe keeps its own).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sign (and the summary as JSON on stderr).")
@click.option("--show", is_flag=True, help="Show the video with the landmarks and the current top-k (needs a display).")
def live(model: str, source: str | None, camera: int | None, realtime: bool, language: str, window: float | None,
         hop: float | None, threshold: float | None, min_windows: int | None, release: float | None,
         centre: float | None, idle_class: str | None, top_k: int | None, threads: int, as_json: bool, show: bool) -> None:
    """Recognise signs as they are made, from a camera, a stream or a video.

    MODEL is an exported graph (MODEL.onnx with its MODEL.onnx.json; run by
    onnxruntime, no torch needed) or a run directory. Frames go through
    MediaPipe with the model's extractor settings; every --hop seconds the
    last --window seconds of landmarks are normalised as in training and
    scored. A sign is printed (TIME GLOSS PROBABILITY, TIME in seconds of
    stream) once its class tops --threshold in --min-windows consecutive
    windows, and not again until its probability falls below --release.
    Windows with hardly any hand in view count as no signing. A summary
    (frames, dropped frames, real-time factor, latency) goes to stderr when
    the stream ends or on Ctrl-C.

    \b
    Example:
      slr-pose live msl150.onnx --camera 0 --show
      slr-pose live msl150.onnx clip.mp4 --realtime --json
      slr-pose live runs/msl150 rtsp://192.168.1.20/stream --threshold 0.7
    """
    from slr_pose.errors import SlrPoseError
    from slr_pose.keypoints.backends import native_logs_silenced
    from slr_pose.runtime.live import LiveRecogniser, LiveSettings, LiveSummary
    from slr_pose.runtime.sources import open_source
    from slr_pose.runtime.spotting import SpottingRule

    if (source is None) == (camera is None):
        raise click.UsageError("give a VIDEO or URL, or --camera N (one of them)")
    if realtime and source is not None and "://" in source:
        realtime = False  # a stream is live already
    if show and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SlrPoseError("--show needs a display (no DISPLAY or WAYLAND_DISPLAY is set)")
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731 - unset: the library's default
    try:
        rule = SpottingRule(**given(threshold=threshold, min_windows=min_windows, release=release, idle=idle_class,
                                    centre=centre))
        settings = LiveSettings(**given(window=window, hop=hop, top_k=top_k), rule=rule)
    except SlrPoseError as e:  # options that do not fit together: a usage error, exit code 2
        raise click.UsageError(str(e)) from None
    recogniser_model = _load_model(Path(model), threads)
    options = recogniser_model.card.extract_options()
    recogniser = LiveRecogniser(recogniser_model, options, language=language, settings=settings)
    frames = open_source(camera if camera is not None else source, realtime=realtime, fps=options.fps,
                         max_side=options.max_side)
    summary = LiveSummary(frames.name)
    overlay = _Display(recogniser.layout) if show else None
    try:
        with native_logs_silenced(), options.backend.create() as backend:
            for step in recogniser.run(frames, backend, summary):
                spotted = step.window.spotted if step.window else None
                if spotted is not None:
                    if as_json:
                        click.echo(json.dumps({**spotted.to_json(), "language": recogniser.recogniser.language},
                                              ensure_ascii=False))
                    else:
                        click.echo(f"{spotted.time:8.2f}  {spotted.gloss:<20} {spotted.probability:.2f}")
                if overlay is not None and not overlay.show(step):
                    break
    except KeyboardInterrupt:
        pass
    finally:
        frames.close()
        if overlay is not None:
            overlay.close()
    click.echo(json.dumps({"summary": summary.to_json()}) if as_json else summary.line(), err=True)


def _load_model(path: Path, threads: int):
    from slr_pose.errors import SlrPoseError

    if path.suffix.lower() == ".onnx":
        from slr_pose.runtime.onnx_model import OnnxModel

        return OnnxModel(path, threads=threads)
    if path.is_dir():
        import torch

        from slr_pose.inference.torch_model import TorchModel

        torch.set_num_threads(threads)
        return TorchModel(path)
    if not path.exists():
        raise SlrPoseError(f"no such model: {path}")
    raise SlrPoseError(f"{path} is neither a run directory nor an exported .onnx graph")


class _Display:
    """The ``--show`` window (OpenCV): the frame, its landmarks, the current top-k and the latest signs."""

    def __init__(self, layout) -> None:
        from slr_pose.runtime.overlay import Overlay

        self.overlay = Overlay(layout)
        self.cv2 = self.overlay.cv2
        self.top: list = []
        self.recent: list = []

    def show(self, step) -> bool:
        """Draw one step; False once the user closes the window or presses q or Esc."""
        if step.window is not None:
            self.top = step.window.top
            if step.window.spotted is not None:
                self.recent.append(step.window.spotted)
        image = self.overlay.draw(step.frame.image, step.xyz, step.confidence, step.missing, self.top, self.recent)
        self.cv2.imshow("slr-pose live", image)
        return self.cv2.waitKey(1) & 0xFF not in (ord("q"), 27)

    def close(self) -> None:
        self.cv2.destroyAllWindows()

