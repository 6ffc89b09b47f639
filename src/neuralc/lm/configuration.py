"""Configuration of the language model with a compiled library (and of its baseline)."""

from __future__ import annotations

from transformers import PreTrainedConfig

__all__ = ["ENCODERS", "NeuralCompilerBaselineConfig", "NeuralCompilerConfig"]

# backbone model types that are encoders (they pool their first, [CLS], token)
ENCODERS = ("bert", "roberta", "distilbert", "electra", "mpnet", "xlm-roberta", "deberta",
            "deberta-v2")


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
        readout: ``final`` (state after the step budget) or ``mixture`` (halting-weighted).
        pooling: ``mean`` (mean of the real tokens), ``last`` (last real token) or ``cls``
            (first token). Default (None): ``cls`` for an encoder backbone (:data:`ENCODERS`),
            else ``mean`` (a from-scratch 2-layer decoder's last token carries the request's op
            word only weakly: selection collapsed onto one program with ``last``).
        parse_head: ``pointer`` (attention from a learned query per input over the token states,
            then a shared per-token value head) or ``pooled`` (a linear head on the pooled state).
        eps: the answer log-probabilities are ``log(max(p, eps))``.
        value_input: what the pointer's value head reads: ``embedding`` (the token's input
            embedding, the default: which number a token denotes is a property of the token) or
            ``hidden`` (the backbone's output state).
        pointer_positions: a learned position embedding of this many positions added to the
            pointer's keys (0: none; attention pointer only).
        pointer: ``attention`` (the default: learned queries over the backbone's contextual
            keys; see ``pointer_positions``) or ``ordinal`` (a hand-designed prior: input i reads
            the i-th number-like token: a learned per-token gate, its running sum is the token's
            ordinal).
        selection_words: add a bag of words to the selection logits: every real token votes
            ``W_w E_t`` from its input embedding (an op word names its program in any phrasing).
        selection_pool: what the selection head reads: ``pooled`` (the pooled state ``z`` of
            ``pooling``; the default) or ``attention`` (a learned attention pool over the token
            states, starting uniform; see :class:`neuralc.lm.modeling.SelectionPool`).
        selection_mode: ``programs`` (the default: each program runs alone and the answers are
            mixed by ``s``: exact, E× the rows; see :mod:`neuralc.lm.computer`) or
            ``superposition`` (one machine started at ``s · entries``: every program runs at
            once in superposition, the paper's form).
        value_norm: a LayerNorm before the pointer's value head, whose weights then start at
            std 1/√D: the first parses are non-uniform, away from the saddle point a uniform
            parse is for programs of additions (see :class:`neuralc.lm.modeling.PointerParser`).
        gate_bias: the initial bias of the ordinal pointer's gate (σ(−4) ≈ 0.02: a token is no
            operand until training says so; tokens a task never showed keep that prior).
        pointer_null: the ordinal pointer gets a null slot after the request, with a learned
            score and value distribution, for inputs the request does not have (short lists).
        posterior_weight: with ``programs``, the weight of the answer-posterior selection loss
            (:mod:`neuralc.lm.modeling`); 0 turns it off.
        trim_vocabulary: a backbone trained from scratch keeps only the embedding rows of the
            tokens its training texts use, the tokenizer's special tokens and the number tokens
            ``0..n-1``, plus one unknown row for every other token (the builder fills
            ``vocabulary``). A row that training never touches stays random either way, and
            the Llama-3 tokenizer's 128,257 rows are 98% of llama-tiny's parameters: their
            dense gradients and optimizer updates dominated a training step. A pretrained
            backbone keeps every row (its rows of words the training texts lack carry what
            pretraining learned, which an unseen phrasing needs), and so does a model built
            without training texts. False: every token its row.
        vocabulary: the kept token ids, ascending: row ``r`` of the backbone's embedding is
            token ``vocabulary[r]``, row ``len(vocabulary)`` the unknown token (empty: row =
            token id). The tokenizer is unchanged; the model maps ids to rows
            (:func:`neuralc.lm.modeling.token_rows`).
    """

    model_type = "neuralc"

    def __init__(self, backbone: str = "llama-tiny", backbone_config: dict | None = None,
                 task: str = "arithmetic", programs: list[str] | None = None,
                 input_names: list[str] | None = None, outputs: int = 1, n: int = 128,
                 max_depth: int = 0, alu: str = "sparse", readout: str = "final",
                 pooling: str | None = None, parse_head: str = "pointer", eps: float = 1e-6,
                 initializer_range: float = 0.02, value_input: str = "embedding",
                 pointer_positions: int = 0, pointer: str = "attention",
                 selection_words: bool = False, selection_pool: str = "pooled",
                 selection_mode: str = "programs", posterior_weight: float = 1.0,
                 value_norm: bool = False, gate_bias: float = 0.0, pointer_null: bool = False,
                 library: list[dict] | None = None, budgets: list[int] | None = None,
                 capacity: int = 0, registers: int = 40, memory: int = 32,
                 list_gate_bias: float = 0.0, copy_numbers: bool = True,
                 number_tokens: list | None = None, trim_vocabulary: bool = True,
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
        self.vocabulary = [int(t) for t in vocabulary or []]
        self.input_names = list(input_names or ["a", "b"])
        self.outputs = outputs
        self.n = n
        self.max_depth = max_depth
        self.alu = alu
        self.readout = readout
        encoder = self.backbone_config.get("model_type") in ENCODERS
        self.pooling = pooling or ("cls" if encoder else "mean")
        self.parse_head = parse_head
        self.eps = eps
        self.initializer_range = initializer_range
        self.value_input = value_input
        self.pointer_positions = pointer_positions
        self.pointer = pointer
        self.selection_words = selection_words
        self.selection_pool = selection_pool
        self.selection_mode = selection_mode
        self.posterior_weight = posterior_weight
        self.value_norm = value_norm
        self.gate_bias = gate_bias
        self.pointer_null = pointer_null
        super().__init__(**kwargs)


class NeuralCompilerBaselineConfig(NeuralCompilerConfig):
    """The same backbone without the computer: the answer is a 128-way class per output slot."""

    model_type = "neuralc-baseline"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
