"""``torchrun --nproc_per_node=2`` on CPU (gloo): finishes, and both replicas hold identical
weights.

Marked ``serial``: ``make test`` runs it after the parallel suite, alone. Started beside the other
xdist worker's heavy tests on a 2-core machine, the two gloo workers were seen to abort (SIGABRT)
once and to hang past 300 s once; alone it passed every time (about 10 s). Root cause not found.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _free_port() -> int:
    """A port nobody listens on now (a fixed one collides with a concurrent run of this test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(out) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", "-m", "neuralc", "train",
           "arithmetic-basic", "--tokenizer", "bpe", "--hidden", "32", "--train-size", "64",
           "--test-size", "16", "--batch-size", "16", "--epochs", "1", "--no-progress",
           "--out", str(out)]
    return subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=150)


@pytest.mark.serial  # see the module docstring
def test_two_process_ddp_run(tmp_path):
    # One retry for an infrastructure hiccup; a real bug fails both attempts.
    try:
        p = _torchrun(tmp_path / "d")
    except subprocess.TimeoutExpired:
        p = None
    if p is None or p.returncode != 0:
        p = _torchrun(tmp_path / "d2")
    log = "\n".join(line for line in p.stderr.splitlines() if not line.startswith(("W11", "I11")))
    assert p.returncode == 0, log[-6000:]
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["world_size"] == 2
    assert summary["replicas_identical"] is True and len(summary["replica_sha256"]) == 2
    assert (Path(summary["out"]) / "checkpoint.safetensors").exists()
