"""Hypothesis profiles: the same examples on every run for ``make test``; fresh ones for ``make fuzz``.

- ``ci`` (the default): derandomized and with no example database, so CI tries exactly the same inputs
  every time and can only fail because the code changed. Schemathesis generates through Hypothesis, so
  its tests are derandomized too.
- ``fuzz`` (``make fuzz``): random seeds, ``FUZZ_EXAMPLES_FACTOR`` times as many examples per test, and
  an example database under ``var/hypothesis`` so that a failure found once is tried first next time.
  Hypothesis prints the seed and a ``@reproduce_failure`` blob for any failure: pin it with ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in {"ci", "fuzz"}:
    raise RuntimeError(f"HYPOTHESIS_PROFILE must be ci or fuzz, not {PROFILE!r}")

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    "fuzz",
    derandomize=False,
    database=DirectoryBasedExampleDatabase(os.environ.get("HYPOTHESIS_DATABASE", "var/hypothesis")),
    deadline=None,
    print_blob=True,
)
settings.load_profile(PROFILE)

FACTOR = int(os.environ.get("FUZZ_EXAMPLES_FACTOR", "20")) if PROFILE == "fuzz" else 1


def examples(count: int) -> int:
    """A test's example budget: ``count`` in CI, ``FUZZ_EXAMPLES_FACTOR`` times that under ``make fuzz``."""
    return count * FACTOR
