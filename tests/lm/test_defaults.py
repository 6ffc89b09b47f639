"""One home for every model default: ``NeuralCompilerConfig()`` with no options is the model
``neuralc train`` builds with no options, and no other layer (the command line, ``TrainOptions``,
the builder) restates a model option's default."""

import dataclasses
import inspect
import json

import pytest

from neuralc.cli.main import build_parser
from neuralc.cli.train import options_from_args
from neuralc.lm import NeuralCompilerConfig, NeuralCompilerModel
from neuralc.lm.build import build_model
from neuralc.lm.training import MODEL_OPTIONS, TrainOptions, _build

# fields the builder derives from the library, the data and the tokenizer (not options)
DERIVED = ("backbone_config", "task", "library", "programs", "budgets", "capacity",
           "input_names", "outputs", "number_tokens", "max_depth", "vocabulary")
# what the comparison ignores: the derived fields, and the library version that saved it
IGNORED = (*DERIVED, "transformers_version")


def _config_fields() -> set[str]:
    params = inspect.signature(NeuralCompilerConfig.__init__).parameters
    return {k for k in params if k not in ("self", "kwargs")}


@pytest.fixture(scope="module")
def trained_default(tmp_path_factory):
    """((model, tokenizer) as ``neuralc train --data FILE --library LIB`` builds them; only the
    tokenizer (BPE on the training texts) and the hidden size, which shape the backbone config
    the comparison takes over, are set, to keep the test fast), and the run's options."""
    tmp_path = tmp_path_factory.mktemp("defaults")
    rows = [{"text": f"Add {i} and {2 * i + 1}", "answer": 3 * i + 1} for i in range(12)]
    rows += [{"text": f"Largest of {i}, {i + 4}, {i + 2}", "answer": i + 4} for i in range(12)]
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["train", "--data", str(data), "--library", "calc_add,list_max",
            "--tokenizer", "bpe", "--hidden", "32", "--out", str(tmp_path / "run")]
    parser, _ = build_parser(argv)
    opts = options_from_args(parser.parse_args(argv))
    return _build(opts, None, [r["text"] for r in rows], rank=0), opts


def test_no_model_option_default_is_restated():
    """The command line leaves every model option unset, ``TrainOptions`` defaults them to
    None, and the builder has no parameter of its own for a config field it does not derive."""
    fields = _config_fields()
    assert set(MODEL_OPTIONS) <= fields
    defaults = TrainOptions()
    # (TrainOptions' task and library name what the builder derives those fields from)
    model_fields = [f for f in TrainOptions.__dataclass_fields__
                    if f in fields and f not in DERIVED]
    assert sorted(model_fields) == sorted(MODEL_OPTIONS)
    assert {f: getattr(defaults, f) for f in model_fields} == dict.fromkeys(model_fields)
    built = inspect.signature(build_model).parameters
    assert {k for k in built if k in fields} <= set(DERIVED)


def test_the_config_default_is_the_model_neuralc_train_builds(trained_default):
    """``NeuralCompilerConfig()``, given only what the builder derives (backbone config,
    library, budgets, slots, number tokens), equals the trained config field for field and
    builds a model with the same parameter names and shapes."""
    (trained, _tok), opts = trained_default
    assert {k: getattr(opts, k) for k in MODEL_OPTIONS} == dict.fromkeys(MODEL_OPTIONS)
    got = trained.config.to_dict()
    hand = NeuralCompilerConfig(**{k: got[k] for k in DERIVED})
    want = hand.to_dict()
    ignored = set(IGNORED)
    assert ({k: v for k, v in got.items() if k not in ignored}
            == {k: v for k, v in want.items() if k not in ignored})
    # every option was compared, and the library really took part (lists included)
    assert _config_fields() - ignored <= set(got)
    assert trained.config.capacity > 0 and len(trained.config.programs) == 2
    model = NeuralCompilerModel(hand)
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert shapes == {n: tuple(p.shape) for n, p in trained.named_parameters()}


@pytest.mark.parametrize("option,value", [("pointer", "ordinal"),
                                          ("selection_mode", "superposition"),
                                          ("copy_numbers", False),
                                          ("trim_vocabulary", False)])
def test_an_option_set_reaches_the_config(trained_default, option, value):
    """An option the user sets overrides the config's default."""
    (trained, _), opts = trained_default
    assert getattr(trained.config, option) != value  # the default differs from the override
    opts = dataclasses.replace(opts, **{option: value})
    model, _ = _build(opts, None, ["Add 1 and 2", "Largest of 3, 4"], rank=0)
    assert getattr(model.config, option) == value
    if option == "copy_numbers":
        assert model.config.number_tokens == [] and trained.config.number_tokens
    if option == "trim_vocabulary":  # every token of the tokenizer its row
        assert model.config.vocabulary == [] and trained.config.vocabulary
        assert model.kept_tokens is None and trained.kept_tokens is not None
