"""Unsupported constructs (docs/LANGUAGE.md §3, §4.8, §8): every one reported at its line and column, with a
reason, as ``FILE:LINE:COL: error: MESSAGE``; all errors of a file together."""

from __future__ import annotations

import pytest

from neuralc.lang.errors import CompileError
from neuralc.pipeline import compile_python


def errors(source: str, filename: str = "prog.py") -> list[str]:
    with pytest.raises(CompileError) as info:
        compile_python(source, filename)
    return info.value.lines()


# (source, the one expected error line); the function keeps everything else valid
ONE_ERROR = [
    ("def main(a):\n    return a / 2\n", "2:12: error: '/' (true division; use '//') is not"),
    ("def main(a):\n    return a ** -2\n", "2:12: error: '**' with a negative exponent"),
    ("def main(a):\n    return a @ 1\n", "2:12: error: '@' is not supported"),
    ("def main(a):\n    x = 1.5\n    return a\n", "2:9: error: floats are not supported"),
    ("def main(a):\n    x = 'hi'\n    return a\n", "2:9: error: strings are not supported"),
    ("def main(a):\n    return [None]\n", "2:13: error: None is not supported"),
    ("def main(a):\n    x = {1: a}\n    return a\n", "2:9: error: dicts are not supported"),
    ("def main(xs):\n    xs.upper()\n    return xs\n",
     "2:5: error: method calls ('.upper(...)') are not supported"),
    ("def main(xs):\n    xs[0:1] = xs\n    return xs\n",
     "2:5: error: assignment to a slice is not supported"),
    ("def main(a):\n    return min()\n", "2:12: error: min() takes at least 1 argument, got 0"),
    ("def main(xs):\n    return xs.pop(1, 2)\n", "2:12: error: '.pop()' takes 0 to 1 arguments"),
    ("def main(xs):\n    xs.append([1])\n    return xs[0] + 1\n",
     "3:20: error: '+' needs a list, not an integer"),
    ("def main(a):\n    return f(a)\n", "2:12: error: unknown function 'f'"),
    ("def main(a):\n    print(a)\n    return a\n", "2:5: error: unknown function 'print'"),
    ("def f(a, b):\n    return a\n\ndef main(a):\n    return f(a)\n",
     "5:12: error: 'f' takes 2 arguments, got 1"),
    ("def f(a):\n    return a\n\ndef main(a):\n    return f(b=a)\n",
     "5:14: error: 'f' has no parameter 'b'"),
    ("def f(a, b=1):\n    return a\n\ndef main(a):\n    return f(b=a)\n",
     "5:12: error: 'f' is missing argument 'a'"),
    ("def main(a):\n    return len(a, a)\n", "2:12: error: len() takes 1 argument, got 2"),
    ("def main(a):\n    x = 1\n    x = [1]\n    return a\n",
     "3:5: error: name 'x' holds both integers and lists in function 'main'"),
    ("def main(a):\n    return len(a) + a\n", "2:21: error: '+' needs an integer, not a list"),
    ("def main(a):\n    a += 1\n    return len(a)\n",
     "3:16: error: len() needs a list, not an integer"),
    ("def main(a):\n    return b\n", "2:12: error: name 'b' is not defined"),
    ("def main(a):\n    if a is None:\n        pass\n    return a\n",
     "2:8: error: 'is' comparisons are not supported"),
    ("def main(a):\n    global g\n    return a\n", "2:5: error: 'global' is not supported"),
    ("def main(a):\n    class Inner:\n        pass\n    return a\n",
     "2:5: error: class definitions are not supported"),
    ("def main(a, b=[]):\n    return a\n",
     "1:15: error: the default value of 'b' must be an integer literal, True or False"),
    ("def main(*a):\n    return 0\n", "1:11: error: '*args' parameters are not supported"),
    ("import os\n\ndef main(a):\n    return a\n",
     "1:1: error: only function definitions are allowed at the top level (found imports)"),
    ("x = [1]\n\ndef main(a):\n    return a\n",
     "1:1: error: only function definitions are allowed at the top level"),
    ("def main(a):\n    break\n", "2:5: error: 'break' outside a loop"),
    ("def main(a):\n    a + 1\n    return a\n",
     "2:5: error: an expression statement must be a function call"),
    ("def main(a):\n    return main\n",
     "2:12: error: function 'main' can only be called, not used as a value"),
    ("def main(a):\n    raise\n", "2:5: error: a bare 'raise' (re-raising) is not supported"),
    ("type T = int\ndef main(a):\n    return a\n", "1:1: error: unsupported syntax: 'type'"),
    ("def main(a):\n    try:\n        pass\n    except Exception:\n        pass\n    return a\n",
     "2:5: error: 'try' is not supported"),
    ("def main(a):\n    return a +\n", "2:15: error: syntax error: invalid syntax"),
]


@pytest.mark.parametrize("source,expected", ONE_ERROR, ids=[e[1].split("error: ")[1][:40]
                                                            for e in ONE_ERROR])
def test_each_construct_is_reported_at_its_place(source, expected):
    lines = errors(source)
    assert lines[0].startswith("prog.py:" + expected), lines
    assert all(line.startswith("prog.py:") and ": error: " in line for line in lines)


def test_every_error_of_the_file_in_order():
    source = (
        "import os\n"                                    # 1
        "def main(a, b=x):\n"                            # 2
        "    x = 1.5\n"                                   # 3
        "    y = {v: 2 for v in range(3)}\n"             # 4
        "    z = a / b\n"                                 # 5
        "    w = print(a)\n"                              # 6
        "    with a:\n"                                  # 7
        "        pass\n"                                  # 8
        "    return x.real\n"                             # 9
    )
    lines = errors(source, "many.py")
    places = [tuple(int(p) for p in line.split(":")[1:3]) for line in lines]
    assert places == sorted(places)
    assert [p[0] for p in places] == [1, 2, 3, 4, 5, 6, 7, 9]
    assert lines[0] == ("many.py:1:1: error: only function definitions are allowed at the top "
                        "level (found imports)")


def test_columns_count_characters_not_bytes():
    source = "def main(a):\n    é = 'ü'\n    return a\n"
    assert errors(source)[0] == "prog.py:2:9: error: strings are not supported"


def test_message_has_no_traceback_text():
    for source, _ in ONE_ERROR:
        for line in errors(source):
            assert "Traceback" not in line and "\n" not in line
