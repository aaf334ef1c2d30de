"""``gemma-doctor verify``: prove the setup on the real stack with a tiny model.

This package is the only place that imports torch and transformers, and only when
``verify`` runs. ``plan`` (what to run, from the Setup) and ``failures`` (what an
error means) stay import-free so they can be tested anywhere.
"""
