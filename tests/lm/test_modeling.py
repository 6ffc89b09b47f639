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
from neuralc.lm.calls import LibraryCalls
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
        _, _, _, alpha = p(V, mask, V)
        assert alpha[0].argmax(-1).tolist() == list(where), (T, where)
        assert alpha[0, [0, 1], list(where)].min() > 0.99


def test_pointer_null_slot_fills_the_inputs_a_request_lacks():
    """With 2 gated tokens and 4 inputs, inputs 3 and 4 read the null slot's value (learned; here
    set to 15), inputs 1 and 2 their tokens; without the slot they would read a token."""
    from neuralc.lm.modeling import PointerParser

    torch.manual_seed(0)
    D, N = 8, 16
    p = PointerParser(4, D, N, mode="ordinal", sharpness=8.0, null=True)
    with torch.no_grad():
        p.gate.weight.zero_()
        p.gate.weight[0, 0] = 30.0
        p.gate.bias.fill_(-15.0)
        p.null_value.zero_()
        p.null_value[15] = 20.0
        p.null_score.fill_(-2.0)
    V = torch.randn(1, 7, D)
    V[..., 0] = 0.0
    V[0, [2, 5], 0] = 1.0
    parsed, _, _, alpha = p(V, torch.ones(1, 7), V)
    assert alpha.shape == (1, 4, 7)
    assert alpha[0, 0, 2] > 0.8 and alpha[0, 1, 5] > 0.8  # the real operands
    assert alpha[0, 2:].sum(-1).max() < 0.01  # inputs 3, 4: (almost) all mass on the null slot
    assert parsed[0, 2:, 15].min() > 0.99
    assert torch.allclose(parsed.sum(-1), torch.ones(1, 4), atol=1e-5)


def test_selection_pool_starts_at_the_mean_and_can_single_out_a_token():
    """The attention pool of the selection head starts exactly at the mean of the real tokens
    (padding ignored); a query along one feature reads the token that carries it."""
    from neuralc.lm.modeling import SelectionPool

    torch.manual_seed(0)
    D, T = 8, 7
    pool = SelectionPool(D)
    H = torch.randn(2, T, D)
    mask = torch.ones(2, T)
    mask[1, 4:] = 0  # padding
    z, beta = pool(H, mask)
    assert torch.allclose(z[0], H[0].mean(0), atol=1e-6)
    assert torch.allclose(z[1], H[1, :4].mean(0), atol=1e-6)
    assert beta[1, 4:].max() == 0
    with torch.no_grad():  # key = identity, query along feature 0; token 2 carries it
        pool.key.weight.copy_(torch.eye(D))
        pool.key.bias.zero_()
        pool.query.zero_()
        pool.query[0] = 100.0
        H[:, :, 0] = 0.0
        H[:, 2, 0] = 1.0
    z, beta = pool(H, mask)
    assert beta[:, 2].min() > 0.99 and torch.allclose(z, H[:, 2], atol=1e-2)


def test_attention_selection_pool_is_optional_learns_from_answers_and_round_trips(tmp_path):
    from neuralc.lm import get_task
    from neuralc.lm.build import build_task_model

    task = get_task("arithmetic")
    default, _ = build_task_model(task, seed=0, **TINY)
    assert default.selection_pool is None  # the default model is unchanged
    model, tok = build_task_model(task, seed=0, selection_pool="attention", **TINY)
    assert model.config.selection_pool == "attention"
    assert torch.count_nonzero(model.selection_pool.query) == 0  # starts as the mean pool
    batch = _batch(task, tok, 8)
    model(**batch).loss.backward()  # answers only, and the gradient reaches the pool's query
    assert model.selection_pool.query.grad.abs().sum() > 0
    with torch.no_grad():
        model.selection_pool.query.normal_()
    model.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path)
    assert loaded.config.selection_pool == "attention"
    a, b = _tensors(model), _tensors(loaded)
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    model.eval(), loaded.eval()
    with torch.no_grad():
        assert torch.equal(model(**batch).selection, loaded(**batch).selection)


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
