"""gemma-doctor: a pre-flight checker for Gemma 3 fine-tuning setups."""

import sys

__version__ = "0.2.2"


def submodule(name: str):
    """``importlib.import_module`` for a module of this package, without importing ``importlib``
    (~0.3 ms a check): ``__import__`` loads it, ``sys.modules`` hands it back."""
    __import__(name)
    return sys.modules[name]
