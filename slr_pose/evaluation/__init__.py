"""Measuring trained runs: isolated and continuous evaluation, stream fusion and ablation, few-shot transfer."""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "evaluate_run": "islr",
    "score_run": "islr",
    "store_scores": "islr",
    "evaluate_cslr_run": "cslr",
    "run_samples": "samples",
    "ablation": "fusion",
    "ablation_table": "fusion",
    "run_stream": "fusion",
    "file_stream": "fusion",
    "run_fewshot": "fewshot",
    "fewshot_table": "fewshot",
})
