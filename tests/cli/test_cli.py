"""The command line (docs/LANGUAGE.md §7): exit statuses, the exact error formats, JSON output, options.

Most checks run ``python -m neuralc`` in a subprocess (the real entry point: no traceback may
ever reach the user); the long tables also run in-process through ``main(argv)``.
"""

import json
import os
import subprocess
import sys

import cases
import pytest

from neuralc.cli.main import main
from neuralc.cli.run import preprocess_argv
from neuralc.lang.asm import assemble
from neuralc.lang.interp import run_reference

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}
ENV.pop("NEURALC_DEBUG", None)


def neuralc(*args, cwd=None):
    """(exit status, stdout, stderr) of ``python -m neuralc ARGS``."""
    p = subprocess.run([sys.executable, "-m", "neuralc", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd, env=ENV, timeout=120, check=False)
    return p.returncode, p.stdout, p.stderr


def in_process(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def prog(tmp_path):
    """A small .asm file: r0 counts down from 5 into memory."""
    f = tmp_path / "count.asm"
    f.write_text(
        "; count r1 down from 3, writing each value to M[r1]\n"
        ".n 16\n.registers 4\n.memory 8\n"
        "    set 3 r1\n"
        "loop:\n"
        "    write r1 r1\n"
        "    dec r1 r1\n"
        "    ne r1 r0 r2\n"
        "    jump r2 loop\n"
        "    halt\n")
    return f


# -- malformed programs: FILE:LINE:COL: error: MESSAGE, every error, exit 2 ------------------------

def _write(tmp_path, name, source):
    f = tmp_path / f"{name}.asm"
    f.write_bytes(source.encode("utf-8"))
    return f


def _expected_lines(filename, expected):
    return [f"{filename}:{line}:{col}: error: {msg}" for line, col, msg in expected]


SUBPROCESS_MALFORMED = cases.MALFORMED[::2] + [cases.MALFORMED[-1]]


@pytest.mark.parametrize("name, source, extra, expected", SUBPROCESS_MALFORMED,
                         ids=[m[0] for m in SUBPROCESS_MALFORMED])
def test_malformed_programs_subprocess(tmp_path, name, source, extra, expected):
    _write(tmp_path, name, source)
    # FILE is printed as given on the command line (here a relative path)
    rc, out, err = neuralc("run", f"./{name}.asm", *extra, cwd=tmp_path)
    assert rc == 2 and out == ""
    assert err.splitlines() == _expected_lines(f"./{name}.asm", expected)


@pytest.mark.parametrize("name, source, extra, expected", cases.MALFORMED,
                         ids=[m[0] for m in cases.MALFORMED])
def test_malformed_programs_in_process(tmp_path, capsys, name, source, extra, expected):
    f = _write(tmp_path, name, source)
    rc, out, err = in_process(capsys, "run", f, "--json", *extra)
    assert rc == 2 and out == ""
    assert err.splitlines() == _expected_lines(str(f), expected)


# -- bad options: neuralc: error: MESSAGE, exit 2 -----------------------------------------------

BAD_OPTIONS = [
    (["--n", "1"], "argument --n: n must be at least 2 (got 1)"),
    (["--n", "abc"], "argument --n: invalid integer: 'abc'"),
    (["--registers", "0"], "argument --registers: must be at least 1 (got 0)"),
    (["--memory", "200"], "--memory 200 is larger than n=16 (set by .n on line 2)"),
    (["--n", "8", "--memory", "9"], "--memory 9 is larger than --n 8"),
    (["--width", "0"], "argument --width: must be at least 1 (got 0)"),
    (["--max-steps", "-1"], "argument --max-steps: must be at least 0 (got -1)"),
    (["--reg", "r99=1"], "--reg r99=1: no register r99 (registers are r0..r3)"),
    (["--reg", "r4=1"], "--reg r4=1: no register r4 (registers are r0..r3)"),
    (["--reg", "x=1"], "--reg expects rI=V (e.g. r1=5), got 'x=1'"),
    (["--reg", "r1=abc"], "--reg expects rI=V (e.g. r1=5), got 'r1=abc'"),
    (["--mem", "7=1,2"], "--mem 7=1,2: cells 7..8 past the end of memory (8 cells, 0..7)"),
    (["--mem", "8=1"], "--mem 8=1: cell 8 past the end of memory (8 cells, 0..7)"),
    (["--mem", "0=1,,2"], "--mem expects A=V1,V2,... (e.g. 0=5,3,1), got '0=1,,2'"),
    (["--mem=-1=5"], "--mem expects A=V1,V2,... (e.g. 0=5,3,1), got '-1=5'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--backend", "quantum"],
     "argument --backend: invalid choice: 'quantum' (choose from 'reference', 'machine')"),
    (["--alu", "circuit", "--n", "12"], "--alu circuit needs n to be a power of two (n=12)"),
    (["--args", "1"], "--args applies only to .py files (use --reg and --mem for .asm)"),
    (["--function", "f"], "--function applies only to .py files"),
]


@pytest.mark.parametrize("extra, message", BAD_OPTIONS, ids=[" ".join(b[0]) for b in BAD_OPTIONS])
def test_bad_options_in_process(prog, capsys, extra, message):
    rc, out, err = in_process(capsys, "run", prog, *extra)
    assert (rc, out, err) == (2, "", f"neuralc: error: {message}\n")


def test_bad_options_subprocess(prog, tmp_path):
    for extra, message in BAD_OPTIONS[::3]:
        rc, out, err = neuralc("run", prog, *extra)
        assert (rc, out, err) == (2, "", f"neuralc: error: {message}\n"), extra


def test_missing_unreadable_and_non_utf8_files(tmp_path):
    rc, out, err = neuralc("run", "nope.asm", cwd=tmp_path)
    assert (rc, out, err) == (2, "", "neuralc: error: nope.asm: no such file\n")
    rc, out, err = neuralc("run", tmp_path)
    assert (rc, out, err) == (2, "", f"neuralc: error: {tmp_path}: is a directory\n")
    (tmp_path / "bad.asm").write_bytes(b"nop ; \xff\n")
    rc, out, err = neuralc("run", "bad.asm", cwd=tmp_path)
    assert rc == 2 and out == "" and err.startswith("neuralc: error: bad.asm: not UTF-8 text")


def test_no_command_unknown_command_and_missing_file_argument():
    for args, message in [([], "missing command"), (["frobnicate"], "invalid choice: 'frobnicate'"),
                          (["run"], "the following arguments are required: FILE")]:
        rc, out, err = neuralc(*args)
        assert rc == 2 and out == "" and err.startswith("neuralc: error: ") and message in err
        assert len(err.splitlines()) == 1


def test_help_and_version():
    rc, out, _ = neuralc("--help")
    assert rc == 0 and "run" in out and "compile" in out
    rc, out, _ = neuralc("run", "--help")
    assert rc == 0 and "--max-steps" in out and "--args" in out
    assert neuralc("--version")[1].startswith("neuralc ")


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("torch") is not None
    and __import__("torch").cuda.is_available(), reason="CUDA is available here")
def test_cuda_refused_without_cuda(prog, capsys):
    rc, out, err = in_process(capsys, "run", prog, "--device", "cuda")
    assert rc == 2 and out == "" and err.startswith("neuralc: error: --device cuda: CUDA is not")


# -- results -------------------------------------------------------------------------------------

def test_json_output_of_an_asm_run(prog):
    rc, out, err = neuralc("run", prog, "--json", "--reg", "r0=1", "--reg", "r3=-1",
                           "--reg", "r0=0", "--mem", "4=9,9,9", "--mem", "5=7")
    assert rc == 0 and err == ""
    assert out.count("\n") == 1
    obj = json.loads(out)
    assert list(obj) == ["halted", "steps", "registers", "memory"]
    assert isinstance(obj["halted"], bool) and isinstance(obj["steps"], int)
    assert len(obj["registers"]) == 4 and len(obj["memory"]) == 8
    ref = run_reference(assemble(prog.read_text()), {0: 0, 3: 15}, {4: 9, 5: 7, 6: 9})
    assert obj == ref.to_json()
    assert obj["registers"][3] == 15 and obj["memory"][3:7] == [3, 9, 7, 9]


def test_sizes_from_options_override_directives(prog):
    rc, out, _ = neuralc("run", prog, "--json", "--n", "32", "--registers", "6", "--memory", "5")
    obj = json.loads(out)
    assert rc == 0 and len(obj["registers"]) == 6 and len(obj["memory"]) == 5
    assert obj["memory"] == [0, 1, 2, 3, 0]


def test_not_halted_is_a_result(prog, capsys):
    rc, out, err = in_process(capsys, "run", prog, "--json", "--max-steps", "3")
    assert rc == 0 and err == ""
    assert json.loads(out) == {"halted": False, "steps": 3, "registers": [0, 2, 0, 0],
                               "memory": [0, 0, 0, 3, 0, 0, 0, 0]}
    rc, out, _ = in_process(capsys, "run", prog, "--max-steps", "3")
    assert rc == 0 and out.startswith("not halted: the step budget (3 steps) ran out\n")


def test_readable_output(prog, capsys):
    rc, out, err = in_process(capsys, "run", prog, "--reg", "r3=5")
    assert rc == 0 and err == ""
    assert out.splitlines() == [
        "halted after 14 steps",
        "registers: r0=0 r1=0 r2=0 r3=5",
        "memory (8 cells, the others 0): [1]=1 [2]=2 [3]=3",
    ]


@pytest.mark.parametrize("case", [c for c in cases.CASES if not c.name.startswith("op_")],
                         ids=lambda c: c.name)
def test_cli_json_equals_the_reference_on_the_case_table(case, tmp_path, capsys):
    f = tmp_path / "case.asm"
    f.write_text(case.source)
    args = ["run", f, "--json", "--max-steps", case.max_steps]
    args += [f"--reg=r{r}={v}" for r, v in case.registers.items()]
    args += [f"--mem={a}={v}" for a, v in case.memory.items()]
    args += [x for k, v in case.sizes.items() for x in (f"--{k}", v)]
    rc, out, err = in_process(capsys, *args)
    assert rc == 0 and err == ""
    assert json.loads(out) == case.reference().to_json()


def test_machine_backend_matches_the_reference(tmp_path, capsys):
    case = cases.case("call_ret_store")
    f = tmp_path / "c.asm"
    f.write_text(case.source)
    for alu in ("sparse", "dense", "circuit"):
        rc, out, err = in_process(capsys, "run", f, "--json", "--backend", "machine",
                                  "--alu", alu, "--dtype", "float64")
        assert rc == 0 and err == ""
        obj = json.loads(out)
        assert list(obj) == ["halted", "steps", "registers", "memory", "confidence"]
        assert obj.pop("confidence") >= 0.999
        assert obj == case.reference().to_json()


# -- .py files ------------------------------------------------------------------------------------

PY = {
    "fib.py": "def fib(k):\n    a = 0\n    b = 1\n    for i in range(k):\n        t = a + b\n"
              "        a = b\n        b = t\n    return a\n",
    "inc.py": "def main(a):\n    return a + 1\n",
    "pair.py": "def main(a, b):\n    return a // b\n",
    "shift.py": "def main(xs, d):\n    out = [0] * 3\n    for i in range(len(xs)):\n"
                "        out[i] = xs[i] + d\n    return out\n",
}


@pytest.fixture
def py(tmp_path):
    for name, text in PY.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_py_json_results(py):
    rc, out, err = neuralc("run", "fib.py", "--args", "10", "--json", cwd=py)
    assert rc == 0 and err == ""
    obj = json.loads(out)
    assert list(obj) == ["halted", "steps", "result"] and obj["halted"] is True
    assert obj["result"] == 55 and isinstance(obj["steps"], int) and obj["steps"] > 10
    # -1 is a value (n-1), wherever --args stands
    assert json.loads(neuralc("run", "inc.py", "--args", "-1", "--json", cwd=py)[1])["result"] == 0
    assert json.loads(neuralc("run", "inc.py", "--json", "--n", "16", "--args", "-2",
                              cwd=py)[1])["result"] == 15
    rc, out, _ = neuralc("run", "shift.py", "--args", "[5, 3, 1]", "-1", "--json", cwd=py)
    assert rc == 0 and json.loads(out)["result"] == [4, 2, 0]


def test_py_not_halted_and_readable(py, capsys):
    rc, out, _ = in_process(capsys, "run", py / "fib.py", "--args", "50", "--json",
                            "--max-steps", "20")
    assert rc == 0 and json.loads(out) == {"halted": False, "steps": 20, "result": None}
    rc, out, _ = in_process(capsys, "run", py / "fib.py", "--args", "7")
    assert rc == 0 and out.splitlines()[0] == "result: 13"
    assert out.splitlines()[1].startswith("halted after ")


def test_py_width_goes_through_the_scheduler(py, capsys):
    one = json.loads(in_process(capsys, "run", py / "fib.py", "--args", "12", "--json")[1])
    two = json.loads(in_process(capsys, "run", py / "fib.py", "--args", "12", "--json",
                                "--width", "2")[1])
    assert one["result"] == two["result"] == 144 % 128 and two["steps"] < one["steps"]


def test_py_runtime_error(py):
    rc, out, err = neuralc("run", "pair.py", "--args", "5", "0", "--json", cwd=py)
    assert rc == 3 and out == ""
    assert err.startswith("pair.py: runtime error: ") and len(err.splitlines()) == 1


@pytest.mark.parametrize("extra, message", [
    (["--args", "1"], "main(a, b) takes 2 arguments, got 1"),
    (["--args", "1", "2", "3"], "main(a, b) takes 2 arguments, got 3"),
    ([], "main(a, b) takes 2 arguments, got 0"),
    (["--args", "[1]", "2"], "argument 'a' of main(a, b) must be an integer, got [1]"),
    (["--args", "1.5", "2"], "--args: '1.5' is not an integer or a list of integers"),
    (["--args", "x", "2"], "--args: 'x' is not a Python literal"),
    (["--reg", "r1=2", "--args", "1", "2"], "--reg does not apply to .py files (use --args)"),
    (["--mem", "0=2", "--args", "1", "2"], "--mem does not apply to .py files (use --args)"),
    (["--function", "nope", "--args", "1", "2"],
     "pair.py has no function 'nope' (functions: main)"),
])
def test_py_bad_arguments(py, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(py)
    rc, out, err = in_process(capsys, "run", "pair.py", *extra)
    assert (rc, out, err) == (2, "", f"neuralc: error: {message}\n")


def test_py_machine_backend(py, capsys):
    rc, out, err = in_process(capsys, "run", py / "fib.py", "--args", "9", "--json",
                              "--backend", "machine", "--n", "64")
    assert rc == 0 and err == ""
    obj = json.loads(out)
    assert obj["result"] == 34 and obj["halted"] and obj["confidence"] >= 0.999
    ref = json.loads(in_process(capsys, "run", py / "fib.py", "--args", "9", "--json",
                                "--n", "64")[1])
    assert obj["steps"] == ref["steps"]


def test_compile_py(py, capsys):
    rc, out, err = in_process(capsys, "compile", py / "fib.py", "--n", "64", "--registers", "8",
                              "--width", "2")
    assert rc == 0 and err == ""
    assert out.startswith(".n 64\n.registers 8\n.width 2\n")
    program = assemble(out)
    assert program.width == 2
    from neuralc.pipeline import compile_python

    compiled = compile_python(PY["fib.py"], "fib.py", program.sizes)
    result = run_reference(program, *compiled.inputs([11]))
    assert compiled.result(result) == cases.fib(11) % 64
    rc, out, err = in_process(capsys, "compile", py / "fib.py", "-o", py / "fib.asm")
    assert (rc, out, err) == (0, "", "") and assemble((py / "fib.asm").read_text()).L > 5
    rc, out, err = in_process(capsys, "compile", py / "fib.py", "-o", py / "no" / "such.asm")
    assert rc == 2 and err.startswith("neuralc: error: cannot write ")


# -- argument handling ----------------------------------------------------------------------------

def test_negative_args_are_values_not_options():
    assert preprocess_argv(["f.py", "--args", "-1", "-0x2", "[-3, 4]", "--json", "--n", "8"]) == [
        "f.py", "--args", "--args-item=-1", "--args-item=-0x2", "--args-item=[-3, 4]", "--json",
        "--n", "8"]
    assert preprocess_argv(["f.py", "--args", "1", "--", "--n=4"]) == [
        "f.py", "--args", "--args-item=1", "--n=4"]


def test_args_parse_to_values(capsys, tmp_path):
    from neuralc.cli.run import parse_arg
    from neuralc.lang.errors import UsageError

    assert [parse_arg(a) for a in ["-1", "6", "True", "[5, 3, 1]", "[]", "0x10",
                                   "[[1, 2], []]", "(1, 2)"]] == [
        -1, 6, 1, [5, 3, 1], [], 16, [[1, 2], []], [1, 2]]
    for bad in ["1.5", "'a'", "[1, [2.5]]", "[[1, 'a']]", "x", "{1: 2}"]:
        with pytest.raises(UsageError):
            parse_arg(bad)


# -- imports stay light ---------------------------------------------------------------------------

def test_import_and_reference_runs_do_not_load_torch(prog):
    code = ("import sys, neuralc; from neuralc.cli.main import main; "
            f"rc = main(['run', {str(prog)!r}, '--json']); "
            "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch was imported'")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                       check=False)
    assert p.returncode == 0, p.stderr


def test_public_api():
    import neuralc

    for name in ["assemble", "format_program", "run_reference", "Program", "Sizes", "Op",
                 "Target", "CompileError", "compile_python", "run_machine"]:
        assert name in neuralc.__all__ and name in dir(neuralc)
    p = neuralc.assemble(".n 8\nset 9 r0\n")
    assert isinstance(p, neuralc.Program) and p.sizes == neuralc.Sizes(n=8)
    assert neuralc.run_reference(p).registers[0] == 1
    assert neuralc.assemble(neuralc.format_program(p)) == p
    with pytest.raises(AttributeError):
        neuralc.no_such_thing  # noqa: B018
    from neuralc.machine import run_machine

    assert neuralc.run_machine is run_machine


def test_public_compile_python():
    import neuralc
    from neuralc import pipeline

    for name in ("compile_python", "run_python", "compile_library", "run_doctests"):
        assert getattr(neuralc, name) is getattr(pipeline, name)


def test_compile_prints_or_writes_normalised_assembly(prog, tmp_path):
    rc, out, err = neuralc("compile", prog, "--n", "16", "--registers", "4")
    assert rc == 0 and err == ""
    assert out.startswith(".n 16\n.registers 4\n.memory 8\n")
    assert assemble(out) == assemble(prog.read_text())
    dest = tmp_path / "out.asm"
    rc, out, err = neuralc("compile", prog, "-o", dest)
    assert (rc, out, err) == (0, "", "") and assemble(dest.read_text()) == assemble(prog.read_text())
