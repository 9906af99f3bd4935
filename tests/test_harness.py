"""The benchmarks' harness (benchmarks/harness): stage time limits and memory figures."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the harness is the benchmarks' own


def test_time_limit_stops_a_stage_and_memory_is_measured():
    import time

    from harness import StageTimeout, current_rss_gib, peak_rss_gib, time_limit

    with pytest.raises(StageTimeout, match="0.05 s"):
        with time_limit(0.05):
            time.sleep(2)
    with time_limit(None):  # no limit
        pass
    assert current_rss_gib() > 0 and peak_rss_gib() > 0  # (the kernel updates the peak lazily)
