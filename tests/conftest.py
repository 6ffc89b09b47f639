"""Test configuration shared by the whole suite.

* Offline: nothing may download weights or data (HF_HUB_OFFLINE=1).
* ``tests/`` is put on sys.path so every test can ``import cases`` (the one shared table of
  programs run through the reference interpreter and the machine).
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, os.path.dirname(__file__))
