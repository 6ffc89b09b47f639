"""Tiny models for the LM tests (a 2-layer LLaMA with hidden 32 and the BPE tokenizer)."""

import pytest

TINY = {"tokenizer": "bpe", "hidden": 32}


@pytest.fixture(scope="session")
def tiny_models():
    """(model, tokenizer) for the mixed task (computer) and its baseline, built once."""
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    task = get_task("mixed")
    model, tok = build_task_model(task, seed=0, selection_mode="programs", posterior_weight=1.0,
                                  **TINY)
    base, _ = build_task_model(task, baseline=True, seed=0, **TINY)
    return task, model, base, tok
