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
    result = profile_training("arithmetic", steps=1, warmup=1, train_size=32, batch_size=8,
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


def test_the_earlier_forward_of_the_comparison_computes_the_same():
    """``--compare``'s ``before`` looks the tokens up twice, as the earlier code did: the same
    outputs and embedding gradient as today's single lookup (up to summation order)."""
    from neuralc.bench.training import _two_lookups
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model
    from neuralc.lm.training import encode_examples

    task = get_task("arithmetic")
    # without unknown-dropout, whose random draws would differ between the two forwards
    model, tok = build_task_model(task, seed=0, tokenizer="bpe", hidden=32, unknown_dropout=0.0)
    ids, mask, labels = encode_examples(tok, task.make_split("train", 0, 8), model.config.outputs)
    weight = model.backbone.get_input_embeddings().weight
    runs = []
    for earlier in (False, True):
        if earlier:
            _two_lookups(model)
        model.zero_grad()
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        runs.append((out.answer_log_probs.detach(), weight.grad.clone()))
    assert torch.allclose(runs[0][0], runs[1][0], atol=1e-6)
    assert torch.allclose(runs[0][1], runs[1][1], atol=1e-7) and runs[0][1].abs().sum() > 0
