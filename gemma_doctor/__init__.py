"""gemma-doctor: a pre-flight checker for Gemma 3 fine-tuning setups."""

__version__ = "0.2.2"
