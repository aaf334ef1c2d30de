"""An Axolotl plugin that installs the preflight callback, for users who write no Python:

    plugins:
      - gemma_doctor.axolotl_plugin.GemmaDoctorPlugin

Axolotl loads it with ``load_plugin`` (module + class name) and calls ``add_callbacks_post_trainer``
with the trainer it built (axolotl src/axolotl/integrations/base.py L260-273 @067b021c), so the
callback checks that trainer at ``on_train_begin``, before the first step.
"""

from __future__ import annotations

try:  # Axolotl's base class when Axolotl is installed; a plain object otherwise (nothing else is needed)
    from axolotl.integrations.base import BasePlugin as _Base
except ImportError:  # pragma: no cover - exercised where Axolotl is installed
    _Base = object


class GemmaDoctorPlugin(_Base):
    def add_callbacks_pre_trainer(self, cfg, model):
        return []

    def add_callbacks_post_trainer(self, cfg, trainer):
        from gemma_doctor.preflight import GemmaDoctorCallback

        callback = GemmaDoctorCallback()
        callback.trainer = trainer
        return [callback]
