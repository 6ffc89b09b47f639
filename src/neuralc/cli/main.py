"""``neuralc``: the command line (docs/LANGUAGE.md §7).

Each subcommand lives in its own module ``neuralc.cli.<name>`` with this protocol:

* ``add_parser(subparsers)`` — add ``subparsers.add_parser("<name>", help=...)`` and its options;
* ``main(args) -> int`` — run it and return the exit status;
* optionally ``HELP`` — the one-line summary in ``neuralc --help`` (else the docstring's first line);
* optionally ``preprocess_argv(argv) -> argv`` — rewrite the subcommand's own arguments before
  argparse sees them (``run`` uses it so that ``--args -1`` is a value, not an option).

Modules import heavy dependencies (torch) inside ``main``, so ``neuralc run`` on the reference
backend starts fast. Only the chosen subcommand's ``add_parser`` is called (the others are
listed with their ``HELP`` string or the first line of their docstring); a module that does not
exist yet is simply absent, one that fails to import becomes a subcommand that reports why.

Errors never show a traceback (set ``NEURALC_DEBUG=1`` to see one):

* :class:`CompileError` → ``FILE:LINE:COL: error: MESSAGE`` per diagnostic, exit 2;
* :class:`UsageError` and argparse errors → ``neuralc: error: MESSAGE``, exit 2;
* :class:`RuntimeProgramError` → ``FILE: runtime error: MESSAGE``, exit 3.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..lang.errors import CompileError, RuntimeProgramError, UsageError

__all__ = ["SUBCOMMANDS", "ArgumentParser", "build_parser", "main"]

SUBCOMMANDS = ("run", "compile", "doctest", "bench", "train", "evaluate", "predict", "demo",
               "experiment",
               "trace")


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, ``neuralc: error: MESSAGE`` (exit 2)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)  # `--mem` and `--memory` are different options
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def _load(name: str):
    """The subcommand module (imported on demand: a subcommand may import torch)."""
    return importlib.import_module(f"{__package__}.{name}")


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in SUBCOMMANDS else None
    return None


def _summary(mod) -> str:
    """One line of help for a subcommand that is listed but not loaded: ``HELP`` or the first
    line of the module docstring (without a leading "``neuralc x``:")."""
    text = getattr(mod, "HELP", None) or (mod.__doc__ or "").strip().split("\n")[0]
    if text.startswith("``") and ":" in text:
        text = text.split(":", 1)[1].strip()
    return text.rstrip(".")


def build_parser(argv: list[str] | None = None) -> tuple[ArgumentParser, dict]:
    """The parser and the subcommand modules.

    Only the chosen subcommand's ``add_parser`` is called (it may import heavy things, e.g. the
    list of tasks); the others are listed with a one-line summary for ``--help``.
    """
    from .. import __version__

    parser = ArgumentParser(
        prog="neuralc",
        description="Neural compilation: compile programs into a differentiable computer and run "
                    "them.",
    )
    parser.add_argument("--version", action="version", version=f"neuralc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen(argv or [])
    modules = {}
    for name in SUBCOMMANDS:
        mod = _load(name)
        modules[name] = mod
        if name == chosen:
            mod.add_parser(sub)
            sub.choices[name].set_defaults(_main=mod.main)
        else:
            sub.add_parser(name, help=_summary(mod), add_help=False)
    return parser, modules


def _preprocess(argv: list[str], modules: dict) -> list[str]:
    chosen = _chosen(argv)
    mod = modules.get(chosen)
    hook = getattr(mod, "preprocess_argv", None)
    if hook is None:
        return argv
    i = argv.index(chosen)
    return argv[: i + 1] + list(hook(argv[i + 1:]))


def _say(message: str) -> None:
    print(" ".join(str(message).split("\n")), file=sys.stderr)


def _quiet_hugging_face() -> None:
    """Keep Hugging Face's own progress bars ("Loading weights", "Writing model shards") out of
    the output: the environment switch for a transformers imported later, the logging switch
    for one already imported. ``HF_HUB_DISABLE_PROGRESS_BARS=0`` brings them back."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] != "0":
        from transformers.utils import logging

        logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 3 run-time error)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    _quiet_hugging_face()
    args = None
    try:
        parser, modules = build_parser(argv)
        args = parser.parse_args(_preprocess(argv, modules))
        if getattr(args, "_main", None) is None:
            names = ", ".join(n for n in SUBCOMMANDS if n in modules)
            raise UsageError(f"missing command (choose from {names}; see neuralc --help)")
        return int(args._main(args) or 0)
    except CompileError as e:
        for line in e.lines():
            _say(line)
        return 2
    except UsageError as e:
        _say(f"neuralc: error: {e}")
        return 2
    except RuntimeProgramError as e:
        name = getattr(e, "filename", None) or getattr(args, "file", None) or "neuralc"
        _say(f"{name}: runtime error: {e}")
        return 3
    except KeyboardInterrupt:
        _say("neuralc: interrupted")
        return 130
    except BrokenPipeError:  # `neuralc ... | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- lives until exit
        except OSError:
            pass
        return 0
    except Exception as e:
        if os.environ.get("NEURALC_DEBUG"):
            raise
        _say(f"neuralc: internal error: {type(e).__name__}: {e} (set NEURALC_DEBUG=1 for a "
             "traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
