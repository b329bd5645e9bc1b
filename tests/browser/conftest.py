"""Fixtures of the browser tests (see widget_harness.py)."""

from widget_harness import center, chromium  # noqa: F401 - fixtures
