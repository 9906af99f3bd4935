"""Shared fixtures: the real datasets folder (read-only) and a private cache per session."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GRAPH_EIGEN_SHARED", REPO.parent / "shared" / "datasets"))


def pytest_configure(config):
    config.addinivalue_line("markers", "realdata: needs ../shared/datasets (skipped without it)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def shared_root() -> Path:
    """The read-only folder of real datasets; tests that need it skip with a reason if absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real datasets folder {SHARED} not found")
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Loaders write processed files to a cache; keep it inside the test session."""
    cache = tmp_path_factory.mktemp("graph_eigen_cache")
    old = os.environ.get("GRAPH_EIGEN_CACHE")
    os.environ["GRAPH_EIGEN_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("GRAPH_EIGEN_CACHE", None)
    else:
        os.environ["GRAPH_EIGEN_CACHE"] = old
