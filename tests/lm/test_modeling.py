"""The HF pair: exact save/load of every tensor (compiled library included), Auto classes,
the compiled library untouched by initialisation, and learning from answers only."""

import torch
from transformers import AutoConfig, AutoModel

from neuralc.lm import (
    NeuralCompilerBaseline,
    NeuralCompilerBaselineConfig,
    NeuralCompilerConfig,
    NeuralCompilerModel,
)
from neuralc.lm.computer import LibraryComputer
from neuralc.lm.training import encode_examples


def _tensors(model):
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}


def _batch(task, tok, n=8, seed=0):
    ex = task.make_split("train", seed, n)
    ids, mask, labels = encode_examples(tok, ex, task.outputs)
    return dict(input_ids=ids, attention_mask=mask, labels=labels)


def test_round_trip_every_tensor_and_auto_classes(tiny_models, tmp_path):
    task, model, base, tok = tiny_models
    batch = _batch(task, tok)
    for m, cfg_cls, cls in ((model, NeuralCompilerConfig, NeuralCompilerModel),
                            (base, NeuralCompilerBaselineConfig, NeuralCompilerBaseline)):
        d = tmp_path / cls.__name__
        m.save_pretrained(d)
        assert (d / "model.safetensors").exists() and not list(d.glob("*.bin"))
        assert type(AutoConfig.from_pretrained(d)) is cfg_cls
        loaded = AutoModel.from_pretrained(d)
        assert type(loaded) is cls
        if cls is NeuralCompilerModel:  # the compiled library stays frozen after loading
            assert not any(p.requires_grad for p in loaded.computer.parameters())
        a, b = _tensors(m), _tensors(loaded)
        assert set(a) == set(b)
        for k in a:  # parameters and buffers, persistent or not
            assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
        m.eval(), loaded.eval()
        with torch.no_grad():
            assert torch.equal(m(**batch).answer_log_probs, loaded(**batch).answer_log_probs)


def test_compiled_library_is_exact_and_frozen(tiny_models):
    task, model, _, _ = tiny_models
    fresh = LibraryComputer(task.programs, inputs=len(task.input_names), max_depth=task.max_depth)
    want = dict(fresh.named_parameters())
    for k, p in model.computer.named_parameters():
        assert not p.requires_grad
        assert torch.equal(p, want[k]), k  # post_init / _init_weights never touched it
    assert model.computer.library.names == task.programs


def test_training_steps_lower_the_answer_loss(tiny_models):
    task, model, base, tok = tiny_models
    batch = _batch(task, tok, 16, seed=1)
    for m in (model, base):
        m = type(m)(m.config)  # a fresh copy: the session fixture stays untouched
        m.train()
        opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=3e-3)
        first = None
        for _ in range(6):
            loss = m(**batch).loss
            first = loss.item() if first is None else first
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert m(**batch).loss.item() < first - 0.05, type(m).__name__


def test_no_supervision_of_selection_or_parsing(tiny_models):
    """The loss depends on the labels only through the answer slots."""
    task, model, _, tok = tiny_models
    model.eval()
    batch = _batch(task, tok, 4)
    out = model(**batch)
    logp = out.answer_log_probs
    manual = -logp.gather(-1, batch["labels"][..., None]).mean()
    assert torch.allclose(out.loss, manual)
    assert torch.allclose(out.selection.sum(-1), torch.ones(4), atol=1e-5)
    assert torch.allclose(out.parsed_inputs.sum(-1), torch.ones(4, 3), atol=1e-5)
