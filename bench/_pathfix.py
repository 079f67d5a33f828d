"""Imported first by every benchmark script.

``bench/token.py`` has the name of a standard-library module, and Python puts a script's own
folder first on the import path, so ``tokenize`` (imported by ``linecache``, ``inspect``, …) would
pick up the benchmark instead of the real ``token``. This moves the folder to the end of the path:
``harness`` stays importable, the standard library wins."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
