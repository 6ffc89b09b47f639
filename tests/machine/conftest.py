"""Machine tests: put this folder on sys.path for the shared helpers (machine_helpers.py,
machine_programs.py), and run torch on one thread: the machine's tensors are small, and with
intra-op threads on a busy 2-core machine (pytest -n 2) a tiny matmul can take milliseconds of
spinning instead of microseconds."""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
torch.set_num_threads(1)
