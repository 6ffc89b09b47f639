"""Options and checks shared by several subcommands (machine sizes, file reading)."""

from __future__ import annotations

import argparse
import os

from ..lang.errors import UsageError

__all__ = ["add_device_option", "add_size_options", "default_device", "nonnegative_int",
           "positive_int", "size_overrides"]


def default_device() -> str:
    """The device of a language-model command given no ``--device``: ``$NEURALC_DEVICE``, else
    ``cpu``."""
    return os.environ.get("NEURALC_DEVICE", "cpu")


def add_device_option(parser: argparse.ArgumentParser, typed_only: bool = False) -> None:
    """``--device`` of the language-model commands (train, evaluate, predict, demo). With
    ``typed_only`` its default is None (the command tells "not given" from a value, as a
    resumed run keeps its own device) and the command resolves it with :func:`default_device`."""
    parser.add_argument("--device", default=None if typed_only else default_device(),
                        help="cpu (default, or $NEURALC_DEVICE), cuda, cuda:N")


def _int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: '{text}'") from None


def positive_int(text: str) -> int:
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {v})")
    return v


def nonnegative_int(text: str) -> int:
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0 (got {v})")
    return v


def _n(text: str) -> int:
    v = _int(text)
    if v < 2:
        raise argparse.ArgumentTypeError(f"n must be at least 2 (got {v})")
    return v


def add_size_options(parser: argparse.ArgumentParser, width: bool = True) -> None:
    """``--n --registers --memory [--width]`` (docs/LANGUAGE.md §1); they override a file's directives."""
    g = parser.add_argument_group("machine sizes (override the file's directives)")
    g.add_argument("--n", type=_n, metavar="N", help="value size: values are 0..N-1 (default 128)")
    g.add_argument("--registers", type=positive_int, metavar="K",
                   help="number of registers r0..r(K-1) (default 16)")
    g.add_argument("--memory", type=positive_int, metavar="M",
                   help="memory cells, 1 <= M <= N (default N)")
    if width:
        g.add_argument("--width", type=positive_int, metavar="W",
                       help="instruction slots per line (default 1)")


def size_overrides(args: argparse.Namespace) -> dict[str, int]:
    """The size options that were given, as ``{field: value}``; checks ``memory <= n``."""
    out = {f: getattr(args, f, None) for f in ("n", "registers", "memory", "width")}
    out = {k: v for k, v in out.items() if v is not None}
    if "memory" in out and "n" in out and out["memory"] > out["n"]:
        raise UsageError(f"--memory {out['memory']} is larger than --n {out['n']}")
    return out
