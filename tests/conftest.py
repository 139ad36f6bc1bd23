"""Hypothesis runs the same examples on every run, so CI is reproducible: a red run is a real, repeatable
failure. ``HYPOTHESIS_PROFILE=explore python -m pytest`` draws new examples each run, to look for more (add
what it finds as a known answer)."""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
