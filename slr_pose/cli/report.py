"""How commands print results: one line per metric, the same in train and evaluate."""

from __future__ import annotations


def wer_text(m: dict) -> str:
    """``WER 12.4% (S 3, D 8, I 3 / 113 glosses)`` of a continuous-signing result."""
    return f"WER {100 * m['wer']:.1f}% (S {m['sub']}, D {m['del']}, I {m['ins']} / {m['ref_words']} glosses)"


def metrics_line(split: str, m: dict) -> str:
    if "wer" in m:
        return f"{split}: greedy {wer_text(m)} over {m['samples']} samples"
    parts = [f"{split}: top-1 {100 * m['top1']:.1f}%  top-5 {100 * m['top5']:.1f}%  "
             f"per-class {100 * m['per_class_top1']:.1f}%  ({m['samples']} samples)"]
    for lang, lm in m.get("languages", {}).items():
        parts.append(f"  {lang}: top-1 {100 * lm['top1']:.1f}%  top-5 {100 * lm['top5']:.1f}%  "
                     f"per-class {100 * lm['per_class_top1']:.1f}% over {lm['samples']} (chance {100 * lm['chance']:.1f}%)")
    return "\n".join(parts)
