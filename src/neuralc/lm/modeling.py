"""A Hugging Face model that reads a request, calls the compiled library and answers (docs/DESIGN.md §9).

Shapes: B batch, T tokens, D hidden size, E library entries, S parsed inputs, O answer slots,
N values.

    r = rows(tokens)                                       (B,T)   embedding rows (token_rows)
    E = embedding[r]                                        (B,T,D) one lookup, for all below
    H = backbone(inputs_embeds=E)                           (B,T,D)
    z = H[last real token] (decoder) or H[0] ([CLS])        (B,D)
    s = softmax(W_s z)                                      (B,E)   selection over entry points
    α_i = softmax_t(q_i · W_k H_t / √D)                     (B,S,T) pointer of input i
    x_i = Σ_t α_i,t softmax(W_v E_t)                        (B,S,N) parsed input i (E: embeddings)
    y, h = computer(s, x)                                   (B,O,N) answer, (B,) halted
    loss = − mean_slots log max(y[answer], ε)               answers only: no supervision of s, x

With ``selection_mode="programs"`` every program runs on its own and the answers are mixed,
``y = Σ_k s_k y_k`` (see :mod:`neuralc.lm.computer`), and the selection also learns which program
*explains* the answer (``posterior_weight`` w; still answers only):

    q_k = softmax_k(Σ_slots log max(y_k[answer], ε))        (B,E) posterior under a uniform prior
    loss += w · CE(stopgrad(q), s)

The marginal likelihood alone gives the selection logits a gradient ``s ⊙ (y_k[answer]/y[answer]
− 1)``, proportional to ``s_k``: once a wrong program holds the softmax (s_k ≈ 1e-6 for the right
one) nothing pulls it back (measured: "sum" stuck on ``sub``). The posterior term's gradient is
``s − q``, which stays large whatever ``s`` is.

The compiled library lives in ``computer`` as frozen parameters and buffers. ``_init_weights``
initialises only the heads (and rebuilds the computer's derived, non-saved tables), so
``from_pretrained`` never re-initialises a compiled tensor (docs/DESIGN.md §9.6).

:class:`NeuralCompilerBaseline` is the same backbone without the computer: a linear head from
``z`` to O × N logits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .calls import LibraryCalls
from .configuration import NeuralCompilerBaselineConfig, NeuralCompilerConfig
from .tasks import IGNORE

__all__ = [
    "NeuralCompilerBaseline",
    "NeuralCompilerModel",
    "NeuralCompilerOutput",
    "PointerParser",
    "build_backbone",
    "token_rows",
]


@dataclass
class NeuralCompilerOutput(ModelOutput):
    """``loss`` (answers only), ``answer_log_probs`` (B,O,N), ``selection`` (B,E) (None for the
    baseline), ``parsed_inputs`` (B,S,N) (None for the baseline), ``halted`` (B,)."""

    loss: torch.Tensor | None = None
    answer_log_probs: torch.Tensor | None = None
    selection: torch.Tensor | None = None
    parsed_inputs: torch.Tensor | None = None
    halted: torch.Tensor | None = None
    pointer: torch.Tensor | None = None
    program_answers: torch.Tensor | None = None  # (B,E,O,N) each program alone ("programs" mode)
    list_lengths: torch.Tensor | None = None  # (B,Q,N) the parsed length of each list slot
    list_elements: torch.Tensor | None = None  # (B,Q,C,N) the parsed elements


def build_backbone(backbone_config: dict) -> nn.Module:
    """The backbone (a ``transformers`` base model without its LM head) from its config dict."""
    cfg = dict(backbone_config)
    cfg = AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    return AutoModel.from_config(cfg)


def token_rows(kept: torch.Tensor | None, input_ids: torch.Tensor) -> torch.Tensor:
    """The embedding rows of token ids (config ``vocabulary``): with ``kept`` (K,) the kept ids,
    ascending, a kept id's row is its position in ``kept`` and any other id's the unknown row
    ``K``; without (the full vocabulary) the ids themselves."""
    if kept is None:
        return input_ids
    pos = torch.searchsorted(kept, input_ids).clamp_max(kept.numel() - 1)
    return torch.where(kept[pos] == input_ids, pos, kept.numel())


class PointerParser(nn.Module):
    """One learned query per input attends over the token states; a shared value head reads the
    number each token denotes: ``x_i = Σ_t α_i,t softmax(W_v V_t)``.

    ``mode="attention"``: ``α_i = softmax_{t ∈ U}(q_i · W_k C_t / √D)`` over the support ``U``:
    the request's number tokens when their values are copied (``number_tokens``; every real
    token if it has none), else every real token. ``C`` is ``H`` after ``context``
    bidirectional layers (``C = H`` with none); the list slots' gates read ``C`` too.

    ``mode="ordinal"``: input ``i`` reads the ``i``-th number-like token, whatever the phrasing.
    A learned per-token gate ``g_t = σ(w_g · V_t + b_g)`` ("does this token denote an operand?",
    never supervised), its running sum ``o_t = Σ_{u≤t} g_u`` is the token's soft ordinal, and
    ``α_i = softmax_t(log g_t − κ (o_t − (i+1))²)`` (κ = ``sharpness``). No position embedding:
    an unseen phrasing that keeps the operands' order parses like a seen one.
    """

    def __init__(self, inputs: int, hidden: int, n: int, mode: str = "attention",
                 sharpness: float = 4.0, gate_bias: float = 0.0, lists: int = 0,
                 capacity: int = 0, list_gate_bias: float = 0.0,
                 number_tokens: list | None = None, vocab: int = 0, context: int = 0,
                 list_context: bool = True):
        super().__init__()
        # number tokens: embedding row (token_rows) → the value its token's text denotes (-1: not
        # a number), a property of the tokenizer (tokenization.number_tokens); such a token's
        # value is copied, not learned
        table = torch.full((vocab if number_tokens else 0,), -1, dtype=torch.long)
        for token, value in number_tokens or ():
            table[token] = value
        self.register_buffer("number_values", table)
        # list slots: a contextual gate per slot, "token t is an element of list q" (module
        # docstring of ListReader)
        self.lists = ListReader(hidden, lists, capacity, list_gate_bias) if lists else None
        if mode not in ("attention", "ordinal"):
            raise ValueError(f"pointer mode must be attention or ordinal, not {mode!r}")
        self.mode = mode
        self.sharpness = sharpness
        self.inputs = inputs
        # only the parameters the mode uses (DDP refuses parameters that get no gradient)
        attention = mode == "attention"
        self.query = nn.Parameter(torch.zeros(inputs, hidden)) if attention and inputs else None
        self.key = nn.Linear(hidden, hidden) if attention and inputs else None
        # context: bidirectional layers over the backbone's states before the keys and the list
        # gates. A causal decoder's state at a number has not read the words after it ("3 as
        # the second number", "the 5 numbers 4, 1, …"), so its key cannot say which input the
        # number is, nor its gate whether it is an element (measured: 0.0 on a held-out
        # phrasing of that form with the decoder's own states, for inputs and for lists alike)
        self.context = (nn.TransformerEncoder(
            nn.TransformerEncoderLayer(hidden, max(1, hidden // 32), 2 * hidden, dropout=0.0,
                                       batch_first=True, norm_first=True),
            context, enable_nested_tensor=False)
            if context and ((lists and list_context) or (attention and inputs)) else None)
        self.list_context = list_context
        self.value = nn.Linear(hidden, n)
        self.gate = nn.Linear(hidden, 1) if mode == "ordinal" and inputs else None
        if self.gate is not None:
            # the gate's prior: a token is no operand unless training says so. A token that
            # training never shows keeps its random embedding and gets σ(b): with b = 0 it was
            # half an operand and shifted every ordinal in a new task's phrasing.
            self.gate.init_bias = gate_bias  # read by _init_weights

    def forward(self, H: torch.Tensor, mask: torch.Tensor, V: torch.Tensor | None = None,
                input_ids: torch.Tensor | None = None) -> Parse:
        """The :class:`Parse` of a batch; its list parts are None without list slots, its scalar
        parts None without scalar slots."""
        V = H if V is None else V
        real = mask.bool()
        values = self.value(V).softmax(-1)  # (B,T,N) which number token t denotes
        elementary = real
        if self.number_values.numel() and input_ids is not None:
            # v_t = e_{value(t)} for a number token (a copy), the learned reading otherwise
            known = self.number_values[input_ids]  # (B,T)
            copy = F.one_hot(known.clamp_min(0), values.shape[-1]).to(values.dtype)
            values = torch.where((known >= 0)[..., None], copy, values)
            # a list of numbers is made of number tokens: words get gate 0 (measured: with every
            # token gated, "largest" read words as 0s, harmless to max and sum, and missed numbers)
            elementary = real & (known >= 0)
        C = H if self.context is None else self.context(H, src_key_padding_mask=~real)
        lengths = elements = None
        if self.lists is not None:
            lengths, elements = self.lists(C if self.list_context else H, elementary, values, V)
        if not self.inputs:
            return Parse(None, lengths, elements)
        if self.mode == "ordinal":
            g = torch.sigmoid(self.gate(V).squeeze(-1)) * real  # (B,T)
            o = g.cumsum(-1)  # (B,T) soft ordinal of each token
            i = torch.arange(1, self.inputs + 1, device=H.device, dtype=H.dtype)
            scores = (g.clamp_min(1e-6).log()[:, None, :]
                      - self.sharpness * (o[:, None, :] - i[None, :, None]) ** 2)  # (B,S,T)
            support = real
        else:
            keys = self.key(C)
            scores = torch.einsum("sd,btd->bst", self.query, keys) / math.sqrt(H.shape[-1])
            # with copied numbers an input points at number tokens only (a request without one
            # falls back to every token): at the start each input is then a mixture of the
            # request's own numbers, not of words whose readings are near uniform — a uniform
            # input is a saddle point of programs made of additions (conv(uniform, v) = uniform)
            support = torch.where(elementary.any(-1, keepdim=True), elementary, real)
        scores = scores.masked_fill(~support[:, None, :], torch.finfo(scores.dtype).min)
        log_alpha = scores.log_softmax(-1)  # (B,S,T)
        alpha = log_alpha.exp()
        return Parse(alpha @ values, lengths, elements, alpha, log_alpha, values, support)


class Parse(NamedTuple):
    """What :class:`PointerParser` reads from a batch: the parsed ``scalars`` (B,S,N), the list
    slots' ``lengths`` (B,Q,N) and ``elements`` (B,Q,C,N), the ``pointer`` α (B,S,T) and its
    log, each token's reading ``values`` (B,T,N), and the ``candidates`` (B,T) a scalar input
    may point at."""

    scalars: torch.Tensor | None
    lengths: torch.Tensor | None = None
    elements: torch.Tensor | None = None
    pointer: torch.Tensor | None = None
    log_pointer: torch.Tensor | None = None
    values: torch.Tensor | None = None
    candidates: torch.Tensor | None = None


class ListReader(nn.Module):
    """Variable-length lists read from the backbone's contextual states.

    A gate per list slot, ``g_t = σ(w_q · H_t + u_q · E_t + b_q)``, says how likely token ``t`` is
    an element of list ``q`` (never supervised): ``H_t`` the contextual state (the backbone's,
    after the parser's bidirectional ``context`` layers: whether "5" is an element can hang on
    the words after it, "the 5 numbers …"), ``E_t`` the token's embedding (whether it is a
    number at all; with ``H`` alone a comma after the first number was taken for an element in
    our runs). Taking the gates as independent, the number of elements before ``t`` has the
    exact distribution ``P_t(j)`` of a sum of Bernoullis (one pass over the tokens,
    ``P_{t+1}(j) = P_t(j)(1 − g_t) + P_t(j−1) g_t``, the last bin absorbing ``≥ C``), so

        length     P(len = j) = P_T(j)                        (B,Q,N), mass on 0..C
        pointer    α_j,t = g_t P_t(j)    "t is element j"     (B,Q,C,T)
        element    x_j = Σ_t α_j,t v_t + (1 − Σ_t α_j,t) e_0   (B,Q,C,N)

    with ``v_t`` the value head's reading of token ``t``; an element past the list's end gets the
    value 0, which a program never reads (it has the length). Elements keep the order of the
    text — the one structural assumption, for lists only; *which* tokens are elements is read
    from the contextual states ("Question 3: sort 5, 1" can leave out the 3), and the count is
    the list's length, so a longer list than any seen in training parses the same way.
    """

    def __init__(self, hidden: int, lists: int, capacity: int, gate_bias: float = 0.0):
        super().__init__()
        self.capacity = capacity
        self.gate = nn.Linear(hidden, lists)
        self.gate.init_bias = gate_bias  # read by _init_weights
        self.token_gate = nn.Linear(hidden, lists, bias=False)

    def forward(self, H: torch.Tensor, real: torch.Tensor, values: torch.Tensor,
                E: torch.Tensor | None = None):
        B, T, N = values.shape
        C = self.capacity
        logit = self.gate(H) + (self.token_gate(E) if E is not None else 0.0)
        g = torch.sigmoid(logit) * real[..., None]  # (B,T,Q)
        p = torch.zeros(B, g.shape[-1], C + 1, dtype=H.dtype, device=H.device)
        p[..., 0] = 1.0
        before = []
        for t in range(T):
            before.append(p)
            gt = g[:, t, :, None]
            moved = torch.cat([torch.zeros_like(p[..., :1]), p[..., :-1]], -1)
            moved[..., -1] = moved[..., -1] + p[..., -1]  # ≥ C stays ≥ C
            p = p * (1 - gt) + moved * gt
        P = torch.stack(before, -1)  # (B,Q,C+1,T)
        alpha = P[:, :, :C] * g.transpose(1, 2)[:, :, None, :]  # (B,Q,C,T)
        elements = torch.einsum("bqct,btn->bqcn", alpha, values)
        rest = (1 - alpha.sum(-1)).clamp_min(0)
        elements = torch.cat([elements[..., :1] + rest[..., None], elements[..., 1:]], -1)
        lengths = torch.cat([p, p.new_zeros(*p.shape[:-1], N - C - 1)], -1)  # (B,Q,N)
        return lengths, elements


def _answer_loss(logp: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean negative log-probability of the answer over the slots that count (≠ IGNORE)."""
    return F.nll_loss(logp.reshape(-1, logp.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)


def _posterior_loss(y_k: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor,
                    eps: float) -> torch.Tensor:
    """``CE(stopgrad(q), softmax(logits))`` with ``q_k ∝ Π_slots y_k[answer]`` (module docstring).

    y_k (B,E,O,N) answers of each program alone, logits (B,E), labels (B,O) with IGNORE slots.
    """
    counted = labels != IGNORE  # (B,O)
    idx = labels.clamp_min(0)[:, None, :, None].expand(-1, y_k.shape[1], -1, 1)
    lk = y_k.gather(-1, idx).squeeze(-1).clamp_min(eps).log()  # (B,E,O)
    lk = (lk * counted[:, None, :].to(lk.dtype)).sum(-1)  # (B,E)
    q = lk.softmax(-1).detach().to(logits.dtype)
    return -(q * logits.log_softmax(-1)).sum(-1).mean()


POINTER_FLOOR = 0.05  # the least prior weight of a candidate token in the pointer's posterior


EXPLAINED = 0.9  # a request answered with this probability gets no pointer posterior


MAX_PARSES = 128  # joint parses of one request the pointer's posterior enumerates


def _pointer_posterior_loss(computer, parse: Parse, labels: torch.Tensor,
                            log_answer: torch.Tensor | None = None, how: str = "exact",
                            eps: float = 1e-6) -> torch.Tensor:
    """The pointer's answer-posterior loss: which tokens, read into the scalar inputs, make
    some program of the library give the answer, weighted by the pointer's own distribution
    floored at φ as the prior; ``q`` without gradient::

        loss = mean_{b,i} − Σ_u q_i(u) log α_i,u             gradient on the logits α − q

    ``how`` says how ``q`` runs the library:

    ``exact`` (:func:`_joint_posterior`, the default): every joint parse of the request's
    tokens, each token read sharply, each program run exactly — enumeration and sharp
    execution outside the machine, the exact posterior over joint parses::

        c = (u_1, …, u_S)   a joint parse: candidate token u_i for input i        (B,P,S)
        w(c) ∝ Π_i max(α_i,u_i, φ) · #{k : program k on the values of c = answer}   (B,P)
        q_i(u) = Σ_{c : u_i = u} w(c)                                              (B,S,U)

    where program ``k`` counts only if its own inputs read distinct tokens (one token fills one
    input; :meth:`~neuralc.lm.calls.LibraryCalls.explains`), an assumption of this target.

    ``machine`` (:func:`_trial_posterior`): the library computer run softly, without gradient,
    once per input ``i`` and token ``u`` with the other inputs as parsed (the machine-in-the-loop
    form; S·U runs of the library per request)::

        x^(i←u) = x with row i replaced by v_u                     (B,S,U,S,N) trial parses
        q_i(u) ∝ max(α_i,u, φ) Σ_k Π_slots y_k(x^(i←u))[answer]    (B,S,U)

    The floor (:data:`POINTER_FLOOR`, as MAPO floors the weight of its memory) keeps a token
    the pointer has all but excluded in the running when it alone explains the answer; the
    pointer as prior keeps ties where they are: when two tokens explain the answer equally
    (``min(a, b)`` read as ``min(b, b)`` when ``b`` is the smaller, in the ``machine`` form,
    which has no distinct tokens; ``min(b, a)`` in both), a uniform prior pushed the pointer
    towards 50/50 and left it diffuse (measured: pointers at 0.69/0.31, arithmetic validation
    falling from 1.000 to 0.984 over the last epochs). Programs count alike (a uniform prior
    over the library), so a selection still wrong does not hide the parse.

    The answer's marginal likelihood gives a pointer logit the gradient
    ``α_u (y_u[answer]/y[answer] − 1)``, proportional to ``α_u``: once the pointer held the wrong
    token (measured: "Question 69: Decrement 12" read 69, α on "12" below 1e-20), the right one
    got nothing, and the ε-clipped log of a wrong answer has no gradient at all. This term's
    gradient is ``α − q`` whatever α is. Still answers only: ``q`` comes from running the
    library on the request's own tokens.

    ``log_answer`` (B,): the model's log-probability of each whole answer. A request answered
    with probability ≥ :data:`EXPLAINED` is left out: its pointer already puts that much mass
    on tokens that explain the answer, and with the pointer as prior ``q`` then stays close to
    α. The loss stays a mean over all B requests.
    """
    whole = parse.pointer.shape[0]
    if log_answer is not None:
        rows = (log_answer.detach() < math.log(EXPLAINED)).nonzero().squeeze(-1)
        if rows.numel() == 0:
            return parse.pointer.new_zeros(())
        parse = Parse(*(None if x is None else x.index_select(0, rows) for x in parse))
        labels = labels.index_select(0, rows)
    B, S, _ = parse.pointer.shape
    cand = parse.candidates  # (B,T)
    U = int(cand.sum(-1).max())
    order = torch.argsort((~cand).to(torch.int8), dim=-1, stable=True)[:, :U]  # (B,U)
    valid = cand.gather(1, order)  # (B,U)
    log_alpha = parse.log_pointer.gather(2, order[:, None, :].expand(B, S, U))  # (B,S,U)
    with torch.no_grad():
        prior = log_alpha.detach().float().clamp_min(math.log(POINTER_FLOOR))
        prior = prior.masked_fill(~valid[:, None, :], float("-inf"))  # log max(α, φ)
        if how == "exact":
            q = _joint_posterior(computer, parse, labels, order, valid, prior)
        elif how == "machine":
            q = _trial_posterior(computer, parse, labels, order, prior, eps)
        else:
            raise ValueError(f"pointer_posterior must be exact or machine, not {how!r}")
    picked = (q.to(log_alpha.dtype) * log_alpha.masked_fill(~valid[:, None, :], 0.0)).sum(-1)
    return -picked.sum() / (whole * S)


def _joint_posterior(computer, parse: Parse, labels, order, valid, prior) -> torch.Tensor:
    """``q`` (B,S,U) over joint parses, each program run exactly (:func:`_pointer_posterior_loss`).

    Each token is read as its value's argmax (the copied number), the list slots at their
    argmax; :meth:`neuralc.lm.calls.LibraryCalls.explains` runs every program on the
    reference interpreter for its own step budget (what the machine computes from one-hot
    inputs), cached. At most :data:`MAX_PARSES` parses per request: each input keeps its ``m``
    likeliest tokens, ``m^S ≤`` :data:`MAX_PARSES`. A request no parse explains gets ``q = 0``
    and adds nothing. Enumerating joint parses, rather than changing one input at a time, moves
    two inputs read the wrong way round together ("Subtract 3 from 10" read as sub(3, 10)).
    """
    B, S, U = prior.shape
    N = parse.values.shape[-1]
    m = U
    while m > 1 and m ** S > MAX_PARSES:
        m -= 1
    top = prior.topk(m, -1).indices  # (B,S,m)
    grid = torch.stack(torch.meshgrid(*[torch.arange(m, device=top.device)] * S,
                                      indexing="ij"), 0).view(S, -1)  # (S,P)
    picks = top.gather(2, grid[None].expand(B, -1, -1))  # (B,S,P) the token of each input
    value = parse.values.gather(1, order[..., None].expand(-1, -1, N)).argmax(-1)  # (B,U)
    read = value.gather(1, picks.flatten(1)).view(B, S, -1).transpose(1, 2)  # (B,P,S)
    lengths = elements = None
    if parse.lengths is not None:
        lengths = parse.lengths.argmax(-1).tolist()  # (B,Q)
        elements = parse.elements.argmax(-1).tolist()  # (B,Q,C)
    tokens = picks.transpose(1, 2).tolist()  # (B,P,S) the candidate each input reads
    hits = computer.explains(read.tolist(), lengths, elements, labels.tolist(), tokens,
                             valid.sum(-1).tolist())
    hits = torch.tensor(hits, dtype=prior.dtype, device=prior.device)  # (B,P)
    logw = prior.gather(2, picks).sum(1)  # (B,P) log Π_i max(α, φ)
    w = hits * (logw - logw.max(-1, keepdim=True).values.clamp_min(-1e30)).exp()
    w = w / w.sum(-1, keepdim=True).clamp_min(1e-30)
    return torch.zeros_like(prior).scatter_add_(2, picks, w[:, None, :].expand(-1, S, -1))


def _trial_posterior(computer, parse: Parse, labels, order, prior, eps: float) -> torch.Tensor:
    """``q`` (B,S,U) from soft runs of the library computer, one per input and candidate token
    with the other inputs as parsed (:func:`_pointer_posterior_loss`, ``machine``)."""
    B, S, U = prior.shape
    N = parse.values.shape[-1]
    v_u = parse.values.gather(1, order[..., None].expand(-1, -1, N))  # (B,U,N)
    trial = parse.scalars[:, None, None].expand(B, S, U, S, N)
    row = torch.eye(S, dtype=torch.bool, device=trial.device)[None, :, None, :, None]
    trial = torch.where(row, v_u[:, None, :, None, :], trial).reshape(B * S * U, S, N)

    def rep(x):
        return None if x is None else x.repeat_interleave(S * U, 0)

    E = len(computer.names)
    uniform = trial.new_full((B * S * U, E), 1.0 / E)  # per_program does not depend on it
    y_k = computer(uniform, trial, rep(parse.lengths), rep(parse.elements)).per_program
    lab = rep(labels)
    counted = (lab != IGNORE).to(y_k.dtype)  # (B·S·U,O)
    idx = lab.clamp_min(0)[:, None, :, None].expand(-1, E, -1, 1)
    lk = y_k.gather(-1, idx).squeeze(-1).clamp_min(eps).log()  # (B·S·U,E,O)
    lk = (lk * counted[:, None, :]).sum(-1).view(B, S, U, E)
    post = lk.logsumexp(-1).to(prior.dtype)  # (B,S,U) log Σ_k (a uniform prior over programs)
    return (post + prior).softmax(-1)


def _realign(module: nn.Module) -> None:
    """Give every parameter and buffer its own freshly allocated storage.

    ``from_pretrained`` leaves tensors as views at arbitrary byte offsets of one loaded buffer;
    CPU matmul kernels pick their blocking by alignment, so the same weights at another address
    can round differently (measured: 1 ulp in the pointer's einsum). Exact resume needs a loaded
    model to compute exactly like a freshly built one.
    """
    with torch.no_grad():
        for mod in module.modules():
            for name, p in mod._parameters.items():
                if p is not None:
                    p.data = p.data.clone(memory_format=torch.contiguous_format)
            for name, b in mod._buffers.items():
                if b is not None:
                    mod._buffers[name] = b.clone(memory_format=torch.contiguous_format)


class _Base(PreTrainedModel):
    base_model_prefix = "neuralc"
    main_input_name = "input_ids"
    _supports_sdpa = True

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        model = super().from_pretrained(*args, **kwargs)
        _realign(model)
        return model

    def _backbone_and_pool(self, config):
        self.backbone = build_backbone(config.backbone_config)
        self.hidden = self.backbone.config.hidden_size
        # a trimmed vocabulary: the kept token ids, saved with the weights (a persistent buffer
        # is loaded back by from_pretrained; the config also lists them)
        kept = torch.tensor(config.vocabulary, dtype=torch.long) if config.vocabulary else None
        self.register_buffer("kept_tokens", kept)
        # the rows of copied number tokens (unknown-dropout never drops them); a plain tensor,
        # derived from the config once, not per training step
        # (explicitly on the CPU: from_pretrained builds the model under the meta device)
        self._number_row_ids = torch.tensor([r for r, _ in self._number_rows(config)],
                                            dtype=torch.long, device="cpu")

    def token_rows(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B,T) embedding rows of the token ids (:func:`token_rows`)."""
        return token_rows(self.kept_tokens, input_ids)

    def _number_rows(self, config) -> list:
        """``config.number_tokens`` with token ids replaced by their rows (kept ones only)."""
        rows = {t: r for r, t in enumerate(config.vocabulary)}
        return [[rows[t] if rows else t, v] for t, v in config.number_tokens
                if not rows or t in rows]

    def _pool(self, H: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.config.pooling == "cls":
            return H[:, 0]
        if self.config.pooling == "mean":  # every real token: the op word reaches z directly
            m = attention_mask.to(H.dtype).unsqueeze(-1)
            return (H * m).sum(1) / m.sum(1).clamp_min(1.0)
        last = attention_mask.long().sum(1) - 1  # right padding: the last real token
        return H[torch.arange(H.shape[0], device=H.device), last]

    def _encode(self, input_ids, attention_mask):
        """``(H (B,T,D), mask (B,T), E (B,T,D), rows (B,T))``: one lookup of the tokens'
        embedding rows ``E``, fed to the backbone as ``inputs_embeds`` and reused by the heads
        (a second lookup doubled the embedding's dense gradient)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        rows = self.token_rows(input_ids)
        if self.training and self.config.unknown_dropout and self.kept_tokens is not None:
            rows = self._drop_words(rows, attention_mask)
        E = self.backbone.get_input_embeddings()(rows)
        H = self.backbone(inputs_embeds=E, attention_mask=attention_mask).last_hidden_state
        return H, attention_mask, E, rows

    def _drop_words(self, rows: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Training only: each word token (not a copied number, not the first token) is read as
        the unknown row with probability ``unknown_dropout``. Every token that training never
        showed lands on that row, so it is trained, in context, as "a word I do not know" —
        instead of staying random and meeting the model first in a held-out phrasing."""
        numbers = self._number_row_ids.to(rows.device)
        word = attention_mask.bool() & ~torch.isin(rows, numbers)
        word[:, 0] = False
        drop = word & (torch.rand(rows.shape, device=rows.device) < self.config.unknown_dropout)
        return rows.masked_fill(drop, self.kept_tokens.numel())

    def _init_weights(self, module):
        # Only our own heads; the backbone (a PreTrainedModel) initialises itself, and compiled
        # tensors are never touched (they are loaded, or built exactly in __init__).
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.constant_(module.bias, getattr(module, "init_bias", 0.0))
        elif isinstance(module, PointerParser):
            if module.query is not None:
                init.normal_(module.query, mean=0.0, std=1.0)
        elif isinstance(module, LibraryCalls):
            module.restore_derived()


class NeuralCompilerModel(_Base):
    """Backbone + selection and parsing heads + the compiled library (module docstring)."""

    config_class = NeuralCompilerConfig

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        # transformers 5 loads on the meta device and leaves non-persistent buffers (the ALU's
        # index tables) as empty placeholders; it calls _init_weights only for modules it does
        # not consider initialised. Rebuild them here so a loaded model never runs on garbage.
        # Loading also recreates parameters with requires_grad=True: freeze the library again.
        model = super().from_pretrained(*args, **kwargs)  # _Base: realigned
        model.computer.restore_derived()
        model.computer.requires_grad_(False)
        return model

    def __init__(self, config: NeuralCompilerConfig):
        super().__init__(config)
        self._backbone_and_pool(config)
        D, n = self.hidden, config.n
        self.selection_head = nn.Linear(D, len(config.programs))
        # Built for real even under from_pretrained's meta-device init: exact, then overwritten
        # by the saved tensors.
        with torch.device("cpu"):
            self.computer = LibraryCalls(
                config.library, config.budgets, n=n, capacity=config.capacity,
                registers=config.registers, memory=config.memory, alu=config.alu)
        S, Q = self.computer.scalar_slots, self.computer.list_slots
        if config.parse_head == "pointer":
            self.parser = PointerParser(S, D, n, config.pointer, gate_bias=config.gate_bias,
                                        lists=Q, capacity=config.capacity,
                                        list_gate_bias=config.list_gate_bias,
                                        number_tokens=self._number_rows(config),
                                        vocab=self.backbone.config.vocab_size,
                                        context=config.pointer_context,
                                        list_context=config.list_context)
        elif config.parse_head == "pooled":
            if Q:
                raise ValueError("parse_head='pooled' reads no lists; use 'pointer'")
            self.parser = nn.Linear(D, S * n)
        else:
            raise ValueError(f"parse_head must be pointer or pooled, not {config.parse_head!r}")
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, steps=None,
                return_dict=True, **kwargs) -> NeuralCompilerOutput:
        H, mask, E, rows = self._encode(input_ids, attention_mask)  # E (B,T,D) embeddings
        z = self._pool(H, mask)
        logits = self.selection_head(z)
        selection = logits.softmax(-1)
        mode = self.config.selection_mode
        if mode not in ("superposition", "programs"):
            raise ValueError(f"selection_mode must be superposition or programs, not {mode!r}")
        if isinstance(self.parser, PointerParser):
            parse = self.parser(H, mask, E, rows)
        else:
            parse = Parse(self.parser(z).view(z.shape[0], -1, self.config.n).softmax(-1))
        parsed, lengths, elements, pointer = parse[:4]
        out = self.computer(selection, parsed, lengths, elements,
                            superposition=mode == "superposition")
        # ε-clipped log of the output probabilities (docs/DESIGN.md §9.5)
        logp = out.outputs.clamp_min(self.config.eps).log()
        loss = None if labels is None else _answer_loss(logp, labels)
        weight = self.config.posterior_weight
        if loss is not None and out.per_program is not None and weight and logits.shape[-1] > 1:
            loss = loss + weight * _posterior_loss(out.per_program, logits, labels,
                                                   self.config.eps)
        weight = self.config.pointer_posterior_weight
        if (loss is not None and out.per_program is not None and weight
                and parse.log_pointer is not None and self.training):
            counted = labels != IGNORE
            log_answer = (logp.gather(-1, labels.clamp_min(0)[..., None]).squeeze(-1)
                          * counted).sum(-1)  # (B,) log p(whole answer)
            loss = loss + weight * _pointer_posterior_loss(
                self.computer, parse, labels, log_answer, self.config.pointer_posterior,
                self.config.eps)
        return NeuralCompilerOutput(loss=loss, answer_log_probs=logp, selection=selection,
                                    parsed_inputs=parsed, halted=out.halted, pointer=pointer,
                                    program_answers=out.per_program, list_lengths=lengths,
                                    list_elements=elements)


class NeuralCompilerBaseline(_Base):
    """The same backbone without the computer: O answer slots, each a 128-way class."""

    config_class = NeuralCompilerBaselineConfig

    def __init__(self, config: NeuralCompilerBaselineConfig):
        super().__init__(config)
        self._backbone_and_pool(config)
        self.answer_head = nn.Linear(self.hidden, config.outputs * config.n)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, return_dict=True,
                **kwargs) -> NeuralCompilerOutput:
        H, mask = self._encode(input_ids, attention_mask)[:2]
        z = self._pool(H, mask)
        logp = self.answer_head(z).view(z.shape[0], -1, self.config.n).log_softmax(-1)
        loss = None if labels is None else _answer_loss(logp, labels)
        return NeuralCompilerOutput(loss=loss, answer_log_probs=logp)
