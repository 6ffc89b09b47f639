"""The training-step profile runs on a tiny task and its parts account for the step (the
numbers themselves are measured by `python -m neuralc.bench.training`, not asserted here)."""

from __future__ import annotations

import pytest
import torch

from neuralc.bench.training import PARTS, format_profile, profile_training


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_parts_sum_to_the_step():
    result = profile_training("arithmetic", steps=1, warmup=0, train_size=32, batch_size=8,
                              split_backward=True)
    ms = result["ms"]
    assert result["steps_per_epoch"] == 4 and result["batch"] == 8
    for part in ("backbone", "parser", "machine", "backward", "optimizer"):
        assert ms[part][0] > 0, part  # each part really ran under its clock
    parts = sum(ms[p][0] for p in PARTS)
    total = ms["total"][0]
    assert parts <= total * 1.001 and parts >= 0.9 * total  # nothing left untimed
    assert result["backward_split_cpu_ms"].get("backbone", 0) > 0
    table = format_profile(result)
    assert all(f"| {p} |" in table for p in (*PARTS, "total"))
