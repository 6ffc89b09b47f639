"""Every experiment's quick mode runs (fixed seed) and learning really happens in it."""

from __future__ import annotations

import json

import pytest

from neuralc.learn.experiments import Context, run_experiment


def _run(name, tmp_path, **overrides):
    ctx = Context(tmp_path / name, quick=True, seed=0, show_progress=False, overrides=overrides)
    head = run_experiment(name, ctx)
    metrics = json.loads((ctx.out / "metrics.json").read_text())
    assert (ctx.out / "headline.json").exists()
    assert list(ctx.out.glob("*.png"))
    return head, metrics


def test_routing_learns_with_the_table_and_the_table_beats_chance(tmp_path):
    _, m = _run("routing", tmp_path)
    n = m["config"]["n"]
    for arm in m["config"]["arms"]:
        h = m["runs"][arm][0]
        assert h["loss"][-1] < 0.5 * h["loss"][1], arm  # the loss falls
        assert h["test_acc"][-1] > h["test_acc"][0] + 0.15, arm  # test accuracy rises
    table = m["runs"]["table"][0]["test_acc"][-1]
    assert table > 10 / n  # far above chance (1/n)


def test_fib_depth_curriculum_learns_the_routing_through_the_soft_machine(tmp_path):
    """The depth curriculum trains through the soft loop itself (no table) and must learn the
    exact routing R1 ← x2, R2 ← x0: the real machine run on the argmax routing answers the
    held-out triples at depth 3 (27 steps), where chance is 1/n. The tabulated remedy's argmax
    routing, run on the machine, must beat chance twice over; every loss falls."""
    head, m = _run("fib-depth", tmp_path)
    n = m["config"]["n"]
    assert m["trained_through_machine"] == {"soft": True, "tabulated": False,
                                            "curriculum": True}
    for mode, runs in m["runs"].items():
        for depth, h in runs.items():
            assert h["loss"][-1] < h["loss"][1], (mode, depth)
    h = m["runs"]["curriculum"]["3"]
    assert h["ceiling"][1] == 2 and h["ceiling"][-1] == 3  # the curriculum really grew
    assert h["test_routing_acc"][0] < 0.1 and h["test_routing_acc"][-1] >= 0.9
    assert h["test_acc_machine"][-1] >= 0.9 > 10 / n
    assert h["test_acc"][-1] >= 0.8  # the model's own forward, through the soft machine
    assert head["acc_d3_curriculum_machine"] == round(h["test_acc_machine"][-1], 4)
    deepest = str(m["config"]["plan"]["tabulated"][-1])
    h = m["runs"]["tabulated"][deepest]
    assert h["test_acc"][-1] > h["test_acc"][0] + 0.1
    assert h["test_acc_machine"][-1] > 2 / n


def test_memorize_decompiles_every_program(tmp_path):
    head, _ = _run("memorize", tmp_path)
    assert head["decompiled_exactly"] == head["programs"]
    assert head["run_acc_decompiled"] == 1.0
    assert head["loss_last"] < 0.01 * head["loss_first"]


def test_contextual_emits_a_different_correct_program_per_context(tmp_path):
    head, m = _run("contextual", tmp_path)
    assert head["loss_last"] < 0.2 * head["loss_first"]
    best = max(v["accuracy"] for v in m["emitted"].values())
    assert best == 1.0  # at least one context's decompiled program is exactly right
    assert len({v["program"].split("\n")[3] for v in m["emitted"].values()}) > 1


def test_adapt_lowers_expected_steps_on_the_biased_distribution(tmp_path):
    head, m = _run("adapt", tmp_path)
    assert head["biased_acc_before"] == 1.0
    hist = m["history"]["expected_steps"]
    assert hist[-1] < hist[0]


def test_unknown_configuration_key_is_refused(tmp_path):
    with pytest.raises(KeyError):
        _run("adapt", tmp_path, no_such_key=1)
