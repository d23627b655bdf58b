"""Shared fixtures for every test folder."""

import pytest

from tests.support.venvs import seldon_core_bin


@pytest.fixture(scope="session")
def seldon_core():
    """bin/ of a venv holding the real seldon-core 1.18.2 (built once, cached in .cache/)."""
    return seldon_core_bin()
