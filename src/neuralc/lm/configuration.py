"""Configuration of the language model with a compiled library (and of its baseline)."""

from __future__ import annotations

from transformers import PreTrainedConfig

__all__ = ["ENCODERS", "REMOVED", "NeuralCompilerBaselineConfig", "NeuralCompilerConfig"]

# backbone model types that are encoders (they pool their first, [CLS], token)
ENCODERS = ("bert", "roberta", "distilbert", "electra", "mpnet", "xlm-roberta", "deberta",
            "deberta-v2")

# options this version no longer has, with the value every model built without them had.
# Measured worse (docs/RESULTS.md): the attention pointer's learned absolute key positions
# (held-out phrasing 0.16, the ordinal pointer 0.90), the ordinal pointer's null slot (sorting
# 0.198), a LayerNorm before the value head (no help on Fibonacci). Not measured there for the
# language model: bag-of-words selection votes, an attention pool for the selection, a value
# head on the backbone's states, the halting-weighted read-out.
REMOVED = {"pointer_positions": 0, "pointer_null": False, "value_norm": False,
           "selection_words": False, "selection_pool": "pooled", "value_input": "embedding",
           "readout": "final"}


def _without_removed(kwargs: dict) -> dict:
    """``kwargs`` without the removed options, refusing one set to another value than the
    model now always has (its saved weights belong to another architecture)."""
    from ..lang.errors import UsageError

    for name, value in REMOVED.items():
        if kwargs.get(name, value) != value:
            raise UsageError(f"this model was saved with {name}={kwargs[name]!r}, an option "
                             "neuralc no longer has; retrain it without that option")
    return {k: v for k, v in kwargs.items() if k not in REMOVED}


class NeuralCompilerConfig(PreTrainedConfig):
    """A backbone (nested config), interface heads and the compiled library.

    Every model option's default lives here, and only here: ``NeuralCompilerConfig()`` with the
    backbone config and library that :func:`neuralc.lm.build.build_model` derives is the model
    ``neuralc train`` builds with no options (``TrainOptions``' model fields are ``None``, "this
    config's default", and only the options a user sets reach the builder). Where an older
    config default disagreed with what training used (``pooling`` was ``last``), the trained
    value became the default.

    Args:
        backbone: the backbone (``llama-tiny``, the default, ``minilm`` or a path); the builder
            makes ``backbone_config`` from it.
        backbone_config: the backbone's own config as a dict (``model_type`` included).
        task: the task name (:mod:`neuralc.lm.tasks`) or ``data`` for a user's data, for reports.
        programs: the library's program names, in the order of the selection head.
        library: one dict per program (:func:`neuralc.lm.calls.library_spec`): a standard
            program's ``name``, or a user's Python ``source`` and ``function``; the model folder
            rebuilds its library from it.
        budgets: the step budget of each program (:func:`neuralc.library.interface.step_budgets`).
        capacity: the longest list a list slot holds (0 without list parameters).
        registers, memory: the machine's registers and memory cells (every program of the
            library is compiled with them).
        input_names: the parse slots, for reports (scalar slots, then list slots).
        outputs: answer slots: ``2 + C_out`` (:mod:`neuralc.lm.calls`).
        n: values per register (the machine's ``n``).
        max_depth: the largest Fibonacci depth of the task (reports).
        list_gate_bias: the initial bias of the list slots' element gates.
        copy_numbers: tokens whose text is a number denote that value: the builder fills
            ``number_tokens`` (a hand-designed prior; False: every token's value is learned
            from the answers).
        number_tokens: ``[token id, value]`` pairs: tokens whose text is a number in ``0..n-1``
            (:func:`neuralc.lm.tokenization.number_tokens`); the parser copies their value
            instead of learning it (empty: every reading is learned).
        alu: ``sparse`` | ``dense`` | ``circuit``.
        pooling: ``mean`` (mean of the real tokens), ``last`` (last real token) or ``cls``
            (first token). Default (None): ``cls`` for an encoder backbone (:data:`ENCODERS`),
            else ``mean`` (a from-scratch 2-layer decoder's last token carries the request's op
            word only weakly: selection collapsed onto one program with ``last``).
        parse_head: ``pointer`` (attention from a learned query per input over the token states,
            then a shared value head on each token's input embedding) or ``pooled`` (the paper's
            head, ``x_k = softmax(W_k z)``, on the pooled state).
        eps: the answer log-probabilities are ``log(max(p, eps))``.
        pointer: ``attention`` (the default: learned queries over the backbone's contextual
            keys) or ``ordinal`` (a hand-designed prior: input i reads the i-th number-like
            token: a learned per-token gate, its running sum is the token's ordinal).
        pointer_context: bidirectional transformer layers over the backbone's states that the
            attention pointer's keys and the list gates read (0: the backbone's own states). A
            decoder's state at a number has not read the words after it ("3 as the second
            number", "the 5 numbers …").
        list_context: whether the list gates read those layers (True) or the backbone's own
            states (False). A config saved before the option existed loads as False, its
            model as it was trained (:meth:`from_dict`).
        selection_mode: ``programs`` (the default: each program runs alone and the answers are
            mixed by ``s``: exact, E× the rows; see :mod:`neuralc.lm.calls`) or
            ``superposition`` (one machine started at ``s · entries``: every program runs at
            once in superposition, the paper's form).
        gate_bias: the initial bias of the ordinal pointer's gate (σ(−4) ≈ 0.02: a token is no
            operand until training says so; tokens a task never showed keep that prior).
        posterior_weight: with ``programs``, the weight of the answer-posterior selection loss
            (:mod:`neuralc.lm.modeling`); 0 turns it off.
        pointer_posterior_weight: with ``programs`` and the pointer parser, the weight of the
            pointer's answer-posterior loss (training only, no gradient through its target;
            see :func:`neuralc.lm.modeling._pointer_posterior_loss`); 0 turns it off.
        pointer_posterior: how that posterior runs the library: ``exact`` (every joint parse of
            the request's numbers, each program run on the reference interpreter; sharp
            execution and enumeration, outside the machine) or ``machine`` (the library
            computer run softly, once per input and candidate token, the other inputs as
            parsed: the machine-in-the-loop form).
        trim_vocabulary: a backbone trained from scratch keeps only the embedding rows of the
            tokens its training texts use, the tokenizer's special tokens and the number tokens
            ``0..n-1``, plus one unknown row for every other token (the builder fills
            ``vocabulary``). A row that training never touches stays random either way, and
            the Llama-3 tokenizer's 128,257 rows are 98% of llama-tiny's parameters: their
            dense gradients and optimizer updates dominated a training step. A pretrained
            backbone keeps every row (its rows of words the training texts lack carry what
            pretraining learned, which an unseen phrasing needs), and so does a model built
            without training texts. False: every token its row.
        unknown_dropout: with a trimmed vocabulary, the probability that training reads a word
            token (not a copied number) as the unknown row, where every token training never
            showed lands: the model learns to parse around words it does not know.
        vocabulary: the kept token ids, ascending: row ``r`` of the backbone's embedding is
            token ``vocabulary[r]``, row ``len(vocabulary)`` the unknown token (empty: row =
            token id). The tokenizer is unchanged; the model maps ids to rows
            (:func:`neuralc.lm.modeling.token_rows`).

    Options that were measured worse or never measured were removed (:data:`REMOVED`): a saved
    config that names one at the value every model had loads as before; at any other value its
    model was another architecture, and loading it is a :class:`~neuralc.lang.errors.UsageError`.
    """

    model_type = "neuralc"

    def __init__(self, backbone: str = "llama-tiny", backbone_config: dict | None = None,
                 task: str = "arithmetic", programs: list[str] | None = None,
                 input_names: list[str] | None = None, outputs: int = 1, n: int = 128,
                 max_depth: int = 0, alu: str = "sparse", pooling: str | None = None,
                 parse_head: str = "pointer", eps: float = 1e-6,
                 initializer_range: float = 0.02, pointer: str = "attention",
                 pointer_context: int = 1, list_context: bool = True,
                 selection_mode: str = "programs", posterior_weight: float = 1.0,
                 pointer_posterior_weight: float = 1.0, pointer_posterior: str = "exact",
                 gate_bias: float = 0.0,
                 library: list[dict] | None = None, budgets: list[int] | None = None,
                 capacity: int = 0, registers: int = 40, memory: int = 32,
                 list_gate_bias: float = 0.0, copy_numbers: bool = True,
                 number_tokens: list | None = None, trim_vocabulary: bool = True,
                 unknown_dropout: float = 0.1,
                 vocabulary: list[int] | None = None, **kwargs):
        self.backbone = backbone
        self.backbone_config = dict(backbone_config or {})
        self.task = task
        self.library = [dict(x) for x in (library or [{"name": "calc_add"}])]
        self.programs = list(programs or [x["name"] for x in self.library])
        self.budgets = list(budgets or [1] * len(self.library))
        self.capacity = capacity
        self.registers = registers
        self.memory = memory
        self.list_gate_bias = list_gate_bias
        self.copy_numbers = copy_numbers
        self.number_tokens = [list(x) for x in number_tokens or []]
        self.trim_vocabulary = trim_vocabulary
        self.unknown_dropout = unknown_dropout
        self.vocabulary = [int(t) for t in vocabulary or []]
        self.input_names = list(input_names or ["a", "b"])
        self.outputs = outputs
        self.n = n
        self.max_depth = max_depth
        self.alu = alu
        encoder = self.backbone_config.get("model_type") in ENCODERS
        self.pooling = pooling or ("cls" if encoder else "mean")
        self.parse_head = parse_head
        self.eps = eps
        self.initializer_range = initializer_range
        self.pointer = pointer
        self.pointer_context = pointer_context
        self.list_context = list_context
        self.selection_mode = selection_mode
        self.posterior_weight = posterior_weight
        self.pointer_posterior_weight = pointer_posterior_weight
        self.pointer_posterior = pointer_posterior
        self.gate_bias = gate_bias
        super().__init__(**_without_removed(kwargs))

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs):
        """A saved config; one saved before ``list_context`` existed had list gates on the
        backbone's own states."""
        return super().from_dict({"list_context": False, **config_dict}, **kwargs)


class NeuralCompilerBaselineConfig(NeuralCompilerConfig):
    """The same backbone without the computer: the answer is a 128-way class per output slot."""

    model_type = "neuralc-baseline"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
