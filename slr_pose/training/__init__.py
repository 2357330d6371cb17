"""Stage 3: training recognisers from a YAML config.

- :mod:`.config`: the config as frozen dataclasses, validated when it loads;
- :mod:`.data`, :mod:`.splits`, :mod:`.labels`: samples from stores, splits, label spaces and VSSign groups;
- :mod:`.modeling`: models built from a config, encoders initialised from other runs;
- :mod:`.task`, :mod:`.islr`, :mod:`.cslr`: what isolated and continuous recognition train on and how they score;
- :mod:`.trainer`: the one training loop (resumable, DDP); :mod:`.cslr_decoding`: decoding CTC output;
- :mod:`.runtime`: devices, seeds, torch.distributed.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Config": "config",
    "load_config": "config",
    "train": "trainer",
    "RunResult": "trainer",
})
