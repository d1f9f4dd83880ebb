"""The oversight tests' shared fixture: the annual report's known year (tests/oversight/known_year.py)."""

from tests.oversight.known_year import known_year  # noqa: F401 - a fixture for the tests of this folder
