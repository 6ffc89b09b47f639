"""The README tour runs as written (and its error example prints what it says)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _tour_commands() -> list[str]:
    block = README.split("<!-- tour -->", 1)[1]
    code = re.search(r"```bash\n(.*?)```", block, re.DOTALL).group(1)
    return [line for line in code.splitlines() if line.strip() and not line.startswith("#")]


def _shell(command: str) -> subprocess.CompletedProcess:
    """Run a README line with this interpreter's neuralc and python."""
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run(command, check=False, shell=True, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("command", _tour_commands())
def test_tour_command_runs(command, tmp_path):
    command = command.replace("/tmp/", f"{tmp_path}/")
    done = _shell(command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() or "-o " in command


def test_error_example_prints_what_the_readme_says(tmp_path):
    example = re.search(r"```console\n\$ (.*?)\n(.*?)```", README, re.DOTALL)
    command, expected = example.group(1), example.group(2)
    done = _shell(command.replace("/tmp/", f"{tmp_path}/"))
    assert done.returncode == 2
    assert done.stderr == expected.replace("/tmp/", f"{tmp_path}/")
    assert "Traceback" not in done.stderr
