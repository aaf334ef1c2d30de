"""gemma-doctor: a pre-flight checker for Gemma 3 fine-tuning setups."""

__version__ = "0.2.2"


def load_ipython_extension(shell) -> None:
    """``%load_ext gemma_doctor`` in IPython, Jupyter, Colab or Kaggle: adds ``%gemma_doctor`` (magic.py)."""
    from gemma_doctor.magic import load_ipython_extension as load

    load(shell)
