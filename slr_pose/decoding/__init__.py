"""From CTC posteriors to scored glosses: decoding, gloss language models, streaming, WER.

Pure NumPy + numba; nothing to compile at install time.

* :mod:`~slr_pose.decoding.vocab`: :class:`Vocabulary` (id 0 = blank).
* :mod:`~slr_pose.decoding.ctc`: :func:`greedy_decode`, :func:`beam_search` -> :class:`Decoded`.
* :mod:`~slr_pose.decoding.lm`: :class:`NGramLM` (modified Kneser-Ney, ARPA files);
  ``BoundLM(lm, vocab)`` gives the tables beam search reads.
* :mod:`~slr_pose.decoding.streaming`: :class:`StreamingDecoder`, :func:`decode_stream`.
* :mod:`~slr_pose.decoding.error_rate`: sclite-compatible :func:`align` and :func:`wer`.
* :mod:`~slr_pose.decoding.stm` / :mod:`~slr_pose.decoding.scoring`: STM/CTM files,
  :func:`score_ctm` with the PHOENIX-2014 / 2014-T protocols (:mod:`~slr_pose.decoding.phoenix`).

Example::

    vocab = Vocabulary.load("vocab.json")
    lm = BoundLM(NGramLM.load("glosses.arpa"), vocab)
    best = beam_search(log_probs, beam_width=10, lm=lm, lm_weight=0.5, insertion_bonus=1.0)[0]
    print(vocab.decode(best.tokens))
"""

from slr_pose._exports import lazy_exports

# imported on first use, so that e.g. the LM command does not load numba
__getattr__, __all__ = lazy_exports(__name__, {
    "Decoded": "ctc", "beam_search": "ctc", "greedy_decode": "ctc", "token_frames": "ctc",
    "NGramLM": "lm", "BoundLM": "lm_tables",
    "Score": "scoring", "score_ctm": "scoring", "score_segments": "scoring",
    "CtmWord": "stm", "StmSegment": "stm", "ctm_words": "stm", "read_ctm": "stm", "read_stm": "stm",
    "write_ctm": "stm", "write_stm": "stm",
    "StreamedGloss": "streaming", "StreamingDecoder": "streaming", "decode_stream": "streaming",
    "Vocabulary": "vocab",
    "Alignment": "error_rate", "WERResult": "error_rate", "align": "error_rate", "wer": "error_rate",
})  # fmt: skip
