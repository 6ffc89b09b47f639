"""The HF pair: exact save/load of every tensor (compiled library included), Auto classes,
the compiled library untouched by initialisation, and learning from answers only."""

import json

import pytest
import torch
from transformers import AutoConfig, AutoModel

from neuralc.cli.main import main
from neuralc.lang.errors import UsageError
from neuralc.lm import (
    NeuralCompilerBaseline,
    NeuralCompilerBaselineConfig,
    NeuralCompilerConfig,
    NeuralCompilerModel,
)
from neuralc.lm.calls import LibraryCalls
from neuralc.lm.configuration import REMOVED
from neuralc.lm.training import encode_examples

TINY = {"tokenizer": "bpe", "hidden": 32}


def _tensors(model):
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}


def _batch(task, tok, n=8, seed=0, outputs=2):
    ex = task.make_split("train", seed, n)
    ids, mask, labels = encode_examples(tok, ex, outputs)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


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
    fresh = LibraryCalls(*model.computer._args)
    want = {**dict(fresh.named_parameters()), **dict(fresh.named_buffers())}
    got = {**dict(model.computer.named_parameters()), **dict(model.computer.named_buffers())}
    assert set(got) == set(want)
    for k, p in got.items():
        assert not p.requires_grad
        assert torch.equal(p, want[k]), k  # post_init / _init_weights never touched it
    assert model.computer.names == list(task.programs)


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
    """The loss depends on the labels only through the answers: the answer NLL plus the
    selection's cross-entropy to the posterior of the programs' own answers."""
    task, model, _, tok = tiny_models
    model.eval()
    batch = _batch(task, tok, 4)
    out = model(**batch)
    assert model.config.selection_mode == "programs" and model.config.posterior_weight == 1.0
    logp = out.answer_log_probs
    labels = batch["labels"]
    nll = -logp.gather(-1, labels[..., None]).mean()  # slot 0: the kind, slot 1: the value
    assert (labels[:, 0] == 0).all()  # integer answers
    y_k = out.program_answers  # (B,E,O,N)
    assert torch.allclose(torch.einsum("be,beon->bon", out.selection, y_k), logp.exp(), atol=1e-5)
    lk = sum(y_k[torch.arange(4), :, j, labels[:, j]].clamp_min(1e-6).log()
             for j in range(2))  # (B,E)
    q = lk.softmax(-1)
    manual = nll - (q * out.selection.log()).sum(-1).mean()
    assert torch.allclose(out.loss, manual, atol=1e-5)
    assert torch.allclose(out.selection.sum(-1), torch.ones(4), atol=1e-5)
    assert torch.allclose(out.parsed_inputs.sum(-1), torch.ones(4, 3), atol=1e-5)
    model.config.posterior_weight = 0.0  # the marginal likelihood alone
    try:
        assert torch.allclose(model(**batch).loss, nll, atol=1e-6)
    finally:
        model.config.posterior_weight = 1.0


def test_ordinal_pointer_reads_the_ith_gated_token_wherever_it_sits():
    """Input i attends to the i-th token the gate marks, whatever precedes it and with padding:
    a new phrasing that keeps the operands' order is parsed the same way."""
    from neuralc.lm.modeling import PointerParser

    torch.manual_seed(0)
    D, N = 8, 16
    p = PointerParser(2, D, N, mode="ordinal", sharpness=8.0)
    with torch.no_grad():  # the gate fires on tokens whose feature 0 is set
        p.gate.weight.zero_()
        p.gate.weight[0, 0] = 30.0
        p.gate.bias.fill_(-15.0)
    for T, where in ((6, (1, 4)), (9, (5, 6)), (9, (0, 8))):
        V = torch.randn(1, T, D)
        V[..., 0] = 0.0
        V[0, list(where), 0] = 1.0
        mask = torch.ones(1, T + 2)  # two padding tokens at the end
        mask[0, T:] = 0
        V = torch.cat([V, torch.ones(1, 2, D)], 1)  # padding that looks gated: must be ignored
        alpha = p(V, mask, V).pointer
        assert alpha[0].argmax(-1).tolist() == list(where), (T, where)
        assert alpha[0, [0, 1], list(where)].min() > 0.99


def test_a_config_saved_with_removed_options_loads_at_their_old_value_only(tiny_models,
                                                                            tmp_path):
    """A model folder whose config names removed options (:data:`REMOVED`) at the value every
    model had loads as the same model, and saves without them; at another value (its weights
    belong to another architecture) it is refused, by the Python API and the command line."""
    _task, model, _, tok = tiny_models
    model.save_pretrained(tmp_path / "old")
    tok.save_pretrained(tmp_path / "old")
    path = tmp_path / "old" / "config.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, **REMOVED}))
    config = NeuralCompilerConfig(**{**saved, **REMOVED})
    assert not set(REMOVED) & set(config.to_dict())
    loaded = AutoModel.from_pretrained(tmp_path / "old")
    a, b = _tensors(model), _tensors(loaded)
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    loaded.save_pretrained(tmp_path / "again")
    assert not set(REMOVED) & set(json.loads((tmp_path / "again" / "config.json").read_text()))
    for name, value in (("pointer_null", True), ("selection_words", True),
                        ("pointer_positions", 64), ("value_input", "hidden"),
                        ("readout", "mixture")):
        with pytest.raises(UsageError, match=f"{name}={value!r}"):
            NeuralCompilerConfig(**{**saved, name: value})
    path.write_text(json.dumps({**saved, "value_norm": True}))
    with pytest.raises(UsageError, match="value_norm=True"):
        AutoModel.from_pretrained(tmp_path / "old")
    assert main(["predict", str(tmp_path / "old"), "Add 3 and 4"]) == 2


def test_the_parse_reads_the_backbone_and_number_tokens_are_copied():
    """The default (attention) parse changes when a backbone layer changes; a number token's
    value is copied exactly (a property of the tokenizer), the pointer over tokens is learned."""
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model
    from neuralc.lm.tokenization import number_tokens

    task = get_task("arithmetic")
    model, tok = build_task_model(task, seed=0, **TINY)
    assert model.config.pointer == "attention"
    assert [v for _, v in number_tokens(tok)] and model.config.number_tokens
    batch = _batch(task, tok, 8)
    model.eval()
    with torch.no_grad():
        before = model(**batch).parsed_inputs.clone()
        layer = model.backbone.layers[-1].mlp.down_proj.weight
        layer.add_(0.5 * torch.randn_like(layer))
        after = model(**batch).parsed_inputs
    assert (before - after).abs().max() > 1e-3
    ids = batch["input_ids"]
    table = model.parser.number_values  # indexed by embedding rows
    assert ((table[model.token_rows(ids)] >= 0).sum(-1) >= 1).all()  # a number in every request


def test_with_copied_numbers_the_pointer_reads_only_the_requests_numbers():
    """At the start each input is a mixture of the request's own numbers (not of words, whose
    readings are near uniform): the pointer's mass on number tokens is exactly 1, and the
    parsed input is a mixture of the one-hot values of those numbers."""
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    task = get_task("fibonacci")
    model, tok = build_task_model(task, seed=0, **TINY)
    batch = _batch(task, tok, 8)
    model.eval()
    with torch.no_grad():
        out = model(**batch)
    rows = model.token_rows(batch["input_ids"])
    is_number = model.parser.number_values[rows] >= 0  # (B,T)
    mass = (out.pointer * is_number[:, None, :]).sum(-1)  # (B,S)
    assert torch.allclose(mass, torch.ones_like(mass))
    for row, r in zip(out.parsed_inputs, rows):
        values = set(model.parser.number_values[r][model.parser.number_values[r] >= 0].tolist())
        support = {v for v in range(row.shape[-1]) if row[:, v].max() > 1e-6}
        assert support <= values


@pytest.mark.parametrize("context", [1, 0])
def test_a_list_gate_reads_the_words_after_its_number(context):
    """Whether "5" is an element can hang on the words after it ("Sort these 5 numbers: …"):
    the list gates read the parser's bidirectional context layers (the default), so the state
    a gate reads at a number changes with a later token; with ``pointer_context=0`` they read
    the causal decoder's own states, which cannot."""
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    model, tok = build_task_model(get_task("sorting"), seed=0, pointer_context=context, **TINY)
    model.eval()
    seen = []
    model.parser.lists.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    texts = ["Sort these 5 numbers: 3, 1, 4, 2, 9.", "Sort these 5 numbers: 3, 1, 4, 2, 8."]
    enc = [tok(t, return_tensors="pt") for t in texts]
    assert enc[0]["input_ids"].shape == enc[1]["input_ids"].shape
    with torch.no_grad():
        for e in enc:
            model(input_ids=e["input_ids"], attention_mask=e["attention_mask"])
    rows = model.token_rows(enc[0]["input_ids"])[0]
    first_number = int((model.parser.number_values[rows] >= 0).nonzero()[0])
    changed = (seen[0][0, first_number] - seen[1][0, first_number]).abs().max()
    assert (changed > 1e-4) == bool(context)


def test_a_list_model_saved_before_list_context_loads_as_it_was_trained(tmp_path):
    """A config without ``list_context`` (saved before the list gates read the context
    layers) loads with list gates on the backbone's own states: the same tensors and the same
    parse as the model that was saved. A new config saves the key and keeps it."""
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    task = get_task("sorting")
    old, tok = build_task_model(task, seed=0, list_context=False, **TINY)
    assert not any(k.startswith("parser.context.") for k in _tensors(old))
    old.save_pretrained(tmp_path / "old")
    path = tmp_path / "old" / "config.json"
    saved = json.loads(path.read_text())
    del saved["list_context"]
    path.write_text(json.dumps(saved))
    loaded = AutoModel.from_pretrained(tmp_path / "old")
    assert loaded.config.list_context is False
    a, b = _tensors(old), _tensors(loaded)
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    batch = _batch(task, tok, 4, outputs=old.config.outputs)
    old.eval(), loaded.eval()
    with torch.no_grad():
        assert torch.equal(old(**batch).list_elements, loaded(**batch).list_elements)
    new, _ = build_task_model(task, seed=0, **TINY)
    new.save_pretrained(tmp_path / "new")
    assert AutoModel.from_pretrained(tmp_path / "new").config.list_context is True
