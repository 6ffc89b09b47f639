"""The mixed depth curriculum's schedule: ceilings grow from 2 to the target, every batch's
depth lies below its epoch's ceiling, and the mix keeps every easier depth."""

from __future__ import annotations

from collections import Counter

import pytest

from neuralc.learn.curriculum import DepthCurriculum


def test_ceilings_grow_one_depth_per_stage_then_stay_at_the_target():
    plan = DepthCurriculum(5, stage_epochs=2, final_epochs=3)
    assert plan.ceilings == [2, 2, 3, 3, 4, 4, 5, 5, 5, 5, 5]
    assert plan.epochs == 11 and list(plan.depths) == [1, 2, 3, 4, 5]
    assert DepthCurriculum(1, stage_epochs=2, final_epochs=1).ceilings == [1, 1, 1]


def test_each_batch_draws_a_depth_uniformly_below_the_ceiling():
    plan = DepthCurriculum(4, stage_epochs=1, final_epochs=1, seed=3)
    for epoch, ceiling in enumerate(plan.ceilings):
        drawn = Counter(plan.depth(epoch) for _ in range(400))
        assert set(drawn) == set(range(1, ceiling + 1))  # easier depths stay in the mix
        assert min(drawn.values()) > 400 / ceiling / 2


def test_the_plain_curriculum_trains_at_the_ceiling_only():
    plan = DepthCurriculum(3, stage_epochs=2, final_epochs=1, mixed=False)
    assert [plan.depth(e) for e in range(plan.epochs)] == plan.ceilings == [2, 2, 3, 3, 3]


def test_the_schedule_is_reproducible_and_refuses_empty_stages():
    a, b = DepthCurriculum(3, seed=7), DepthCurriculum(3, seed=7)
    assert [a.depth(e) for e in range(a.epochs)] == [b.depth(e) for e in range(b.epochs)]
    with pytest.raises(ValueError):
        DepthCurriculum(3, stage_epochs=0)
