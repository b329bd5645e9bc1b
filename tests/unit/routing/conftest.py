"""Fixtures for the routing tests; the helpers live in routing_harness.py so tests can import them."""

from __future__ import annotations

import pytest
from routing_harness import Harness


@pytest.fixture
def h() -> Harness:
    return Harness()
