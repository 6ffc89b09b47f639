"""``lang`` is the bottom stage: it imports nothing from the stages above it (passes, machine,
learn, lm, cli, the pipeline), neither when imported nor anywhere in its source."""

import pathlib
import re
import subprocess
import sys

import neuralc.lang

ABOVE = ("passes", "machine", "learn", "lm", "cli", "pipeline", "library", "bench")
LANG = pathlib.Path(neuralc.lang.__file__).parent


def test_importing_lang_loads_no_stage_above_it():
    code = ("import sys, neuralc.lang, neuralc.lang.pysub, neuralc.lang.pysub.library\n"
            "import pkgutil, importlib\n"
            "for m in pkgutil.walk_packages(neuralc.lang.__path__, 'neuralc.lang.'):\n"
            "    importlib.import_module(m.name)\n"
            "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    above = [m for m in loaded if m.split(".")[:2][-1] in ABOVE and m.startswith("neuralc.")]
    assert above == []
    assert "neuralc.lang.pysub.compiler" in loaded  # the walk really imported lang's modules


def test_no_source_of_lang_names_a_stage_above_it():
    names = "|".join(ABOVE)
    pattern = re.compile(rf"^\s*(from\s+(\.\.\.?|neuralc\.)({names})\b|import\s+neuralc\.({names})\b)",
                         re.MULTILINE)
    files = sorted(LANG.rglob("*.py"))
    assert len(files) > 10
    offending = [f"{f.relative_to(LANG)}: {m.group(0).strip()}" for f in files
                 for m in pattern.finditer(f.read_text())]
    assert offending == []
