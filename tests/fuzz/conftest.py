"""Hypothesis profiles of the fuzz tests: ``ci`` by default, ``long`` with ``HYPOTHESIS_PROFILE=long``.

``ci`` replays the same cases every run (``derandomize``) and keeps no example
database, so a failure in CI is a change in the code, not new luck; ``long``
draws fresh cases, many more of them.
"""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("long", max_examples=3000, deadline=None, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
