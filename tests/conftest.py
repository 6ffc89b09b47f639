"""Test configuration shared by the whole suite.

* Offline: nothing may download weights or data (HF_HUB_OFFLINE=1).
* One intra-op thread per test worker.
* ``tests/`` is put on sys.path so every test can ``import cases`` (the one shared table of
  programs run through the reference interpreter and the machine).
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests run many tiny tensor ops in two xdist workers on two cores: intra-op threads only add
# synchronisation (a (16,128)@(128,10) matmul measured 15.7 ms with 2 threads vs 7 µs with 1).
# Set before torch is imported, so it takes effect without importing torch here.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, os.path.dirname(__file__))
