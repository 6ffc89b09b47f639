"""``neuralc doctest FILE.py``: the report's lines, JSON objects, summary and exit status; the
project's own examples and standard library pass their docstring examples on both backends."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import json
import re
from pathlib import Path

import pytest

from neuralc.cli.main import main
from neuralc.lang.program import Sizes
from neuralc.pipeline import run_doctests

ROOT = Path(__file__).resolve().parents[2]
OWN = sorted([*ROOT.glob("examples/*.py"), *ROOT.glob("examples/library/*.py"),
              *ROOT.glob("src/neuralc/library/programs/*.py")])
OWN = [p for p in OWN if ">>>" in p.read_text()]


def _own_options(path: Path) -> list[str]:
    """The options a file's docstring gives for checking it (``neuralc doctest FILE OPTIONS``)."""
    m = re.search(r"neuralc doctest \S+((?: --(?!backend)[a-z-]+(?: [0-9]+)?)*)", path.read_text())
    return m.group(1).split() if m else []

SAMPLE = '''\
def fib(n: int = 10) -> int:
    """Fibonacci numbers.

    >>> fib(10)
    55
    >>> fib()
    55
    >>> fib(n=6)
    8
    >>> fib(-1)
    Traceback (most recent call last):
    ...
    ValueError: n must be >= 0
    >>> fib(3)
    3
    >>> fib(2000)
    0
    >>> fib("a")
    1
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    a = 0
    b = 1
    for _ in range(n):
        t = a + b
        a = b
        b = t
    return a


def total(xs):
    """
    >>> xs = [1, 2, 3]
    >>> total(xs)
    6
    >>> total([])
    0
    >>> total([4]) == 4
    True
    """
    s = 0
    for x in xs:
        s += x
    return s


def broken(x):
    """
    >>> broken(1)
    1
    """
    return x.real
'''


def doctest_cli(capsys, *argv):
    code = main(["doctest", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err.splitlines()


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    return path


@pytest.mark.parametrize("backend", ["reference", "machine"])
@pytest.mark.parametrize("path", OWN, ids=[p.name for p in OWN])
def test_own_examples_pass_on_both_backends(path, backend, capsys):
    code, out, _ = doctest_cli(capsys, path, "--backend", backend, *_own_options(path))
    assert code == 0, out
    passed, failed, skipped = (int(w) for w in out[-1].replace(",", "").split()[::2])
    assert failed == 0 and skipped == 0 and passed >= 1


@pytest.mark.parametrize("path", OWN, ids=[p.name for p in OWN])
def test_own_examples_are_cpython_truths(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module)
    assert result.attempted >= 1 and result.failed == 0


def test_report_lines_summary_and_exit_status(sample, capsys):
    code, out, _ = doctest_cli(capsys, sample, "--n", "1024")
    name = str(sample)
    assert code == 1
    assert f"{name}:53:12: error: attribute access ('.real') is not supported" in out
    assert f"{name}:14: error: fib(3): expected 3, got 2" in out
    assert f"{name}:10: skipped: the value -1 is outside the machine's 0..1023" in out
    assert f"{name}:16: skipped: the value 2000 is outside the machine's 0..1023" in out
    assert f"{name}:18: skipped: a string" in out
    assert f"{name}:50: error: broken(1): expected 1, got a compile error" in out
    assert out[-1] == "6 passed, 2 failed, 3 skipped"


def test_json_objects_then_the_summary(sample, capsys):
    code, out, err = doctest_cli(capsys, sample, "--n", "1024", "--signed", "--json")
    rows = [json.loads(line) for line in out]
    assert code == 1
    assert rows[-1] == {"passed": 7, "failed": 2, "skipped": 2}
    by_line = {r["line"]: r for r in rows[:-1]}
    assert by_line[4] == {"line": 4, "function": "fib", "status": "passed", "expected": 55,
                          "got": 55}
    assert by_line[10]["status"] == "passed"  # signed: -1 is a value; the exception matches
    assert by_line[14] == {"line": 14, "function": "fib", "status": "failed", "expected": 3,
                           "got": 2}
    assert by_line[16] == {"line": 16, "function": "fib", "status": "skipped",
                           "reason": "the value 2000 is outside the machine's -512..511"}
    assert by_line[50]["status"] == "failed" and "does not compile" in by_line[50]["reason"]
    assert any(":53:12: error: attribute access" in line for line in err)


def test_function_filter_and_all_passing_exit_zero(sample, capsys):
    code, out, _ = doctest_cli(capsys, sample, "--function", "total")
    assert code == 0 and out[-1] == "3 passed, 0 failed, 0 skipped"
    assert not any("error" in line for line in out)


def test_step_budget_fails_an_example(sample, capsys):
    code, out, _ = doctest_cli(capsys, sample, "--function", "fib", "--n", "1024",
                               "--max-steps", "20")
    assert code == 1
    assert any("fib(10): expected 55, got no result (the step budget of 20 steps ran out)"
               in line for line in out)


@pytest.mark.parametrize("argv", [
    ["missing.py"], ["--function", "nope"], ["--n", "1"],
])
def test_bad_input_exits_2(sample, tmp_path, capsys, argv):
    args = [tmp_path / argv[0]] if argv[0].endswith(".py") else [sample, *argv]
    code, out, err = doctest_cli(capsys, *args)
    assert code == 2 and out == [] and err and err[0].startswith("neuralc: error:")


def test_syntax_error_is_bad_input(tmp_path, capsys):
    path = tmp_path / "bad.py"
    path.write_text("def f(:\n    pass\n")
    code, _, err = doctest_cli(capsys, path)
    assert code == 2 and err[0].startswith(f"{path}:1:7: error: syntax error")


def test_library_level_api():
    report = run_doctests(SAMPLE, "s.py", Sizes(n=1024), function="fib", signed=True)
    assert (report.passed, report.failed, report.skipped) == (4, 1, 2)
    assert report.summary() == "4 passed, 1 failed, 2 skipped"


MORE = '''\
def sort_in_place(xs):
    """
    >>> data = [3, 1, 2]
    >>> sort_in_place(data)
    >>> data
    [1, 2, 3]
    >>> [square(i) for i in range(4)]
    [0, 1, 4, 9]
    >>> r = square(5)
    >>> r
    25
    >>> square(square(2)) == 16
    True
    >>> print(square(3))
    9
    >>> square(2 ** 3 - 6)
    4
    >>> [square(i) for i in range(4)]
    [0, 1, 4, 10]
    """
    for i in range(1, len(xs)):
        k = xs[i]
        j = i
        while j > 0 and xs[j - 1] > k:
            xs[j] = xs[j - 1]
            j -= 1
        xs[j] = k


def square(x):
    return x * x
'''


def test_examples_around_calls(tmp_path, capsys):
    path = tmp_path / "more.py"
    path.write_text(MORE)
    code, out, _ = doctest_cli(capsys, path, "--json")
    rows = [json.loads(line) for line in out]
    assert code == 1 and rows[-1] == {"passed": 6, "failed": 1, "skipped": 1}
    by_line = {r["line"]: r for r in rows[:-1]}
    assert by_line[4]["status"] == "skipped"  # sort_in_place(data) shows nothing
    assert by_line[5] == {"line": 5, "function": "sort_in_place", "status": "passed",
                          "expected": [1, 2, 3], "got": [1, 2, 3]}
    assert by_line[18] == {"line": 18, "function": "sort_in_place", "status": "failed",
                           "expected": [0, 1, 4, 10], "got": [0, 1, 4, 9]}
