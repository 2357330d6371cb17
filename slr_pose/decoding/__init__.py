"""From CTC posteriors to scored glosses: decoding, gloss language models, streaming, WER.

Pure NumPy + numba; nothing to compile at install time.

* :mod:`~slr_pose.decoding.vocab`: :class:`Vocabulary` (id 0 = blank).
* :mod:`~slr_pose.decoding.ctc`: :func:`greedy_decode`, :func:`beam_search` -> :class:`Decoded`.
* :mod:`~slr_pose.decoding.lm`: :class:`NGramLM` (modified Kneser-Ney, ARPA files);
  ``lm.bind(vocab)`` gives the tables beam search reads.
* :mod:`~slr_pose.decoding.streaming`: :class:`StreamingDecoder`, :func:`decode_stream`.
* :mod:`~slr_pose.decoding.error_rate`: sclite-compatible :func:`align` and :func:`wer`.
* :mod:`~slr_pose.decoding.stm` / :mod:`~slr_pose.decoding.scoring`: STM/CTM files,
  :func:`score_ctm` with the PHOENIX-2014 / 2014-T protocols (:mod:`~slr_pose.decoding.phoenix`).

Example::

    vocab = Vocabulary.load("vocab.json")
    lm = NGramLM.load("glosses.arpa").bind(vocab)
    best = beam_search(log_probs, beam_width=10, lm=lm, lm_weight=0.5, insertion_bonus=1.0)[0]
    print(vocab.decode(best.tokens))
"""

from __future__ import annotations

import importlib

# name -> module; imported on first use so that e.g. the LM command does not load numba
_EXPORTS = {
    "Decoded": "ctc", "beam_search": "ctc", "greedy_decode": "ctc", "token_frames": "ctc",
    "NGramLM": "lm",
    "Score": "scoring", "score_ctm": "scoring", "score_segments": "scoring",
    "CtmWord": "stm", "StmSegment": "stm", "ctm_words": "stm", "read_ctm": "stm", "read_stm": "stm",
    "write_ctm": "stm", "write_stm": "stm",
    "StreamedGloss": "streaming", "StreamingDecoder": "streaming", "decode_stream": "streaming",
    "Vocabulary": "vocab",
    "Alignment": "error_rate", "WERResult": "error_rate", "align": "error_rate", "wer": "error_rate",
}  # fmt: skip
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'slr_pose.decoding' has no attribute {name!r}")
    return getattr(importlib.import_module(f"slr_pose.decoding.{module}"), name)
