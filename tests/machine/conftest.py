"""Machine tests: put this folder on sys.path for the shared helpers (machine_helpers.py,
machine_programs.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
