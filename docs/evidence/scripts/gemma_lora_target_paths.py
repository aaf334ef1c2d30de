"""GD704's evidence: a LoRA regex written for one release's module paths, on another release. A tiny
Gemma3ForConditionalGeneration (built as scripts/gen_module_names.py builds it) gets get_peft_model with the
pre-4.52 path and the later one.

    python docs/evidence/scripts/gemma_lora_target_paths.py    # one JSON line per case, with the versions
"""

import importlib.util
import json
from pathlib import Path

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model

spec = importlib.util.spec_from_file_location(
    "gen", Path(__file__).resolve().parents[3] / "scripts" / "gen_module_names.py"
)
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)

TARGETS = {
    "before 4.52": r".*language_model\.model\.layers\.\d+\.self_attn\.(q_proj|v_proj)",
    "4.52 and later": r".*model\.language_model\.layers\.\d+\.self_attn\.(q_proj|v_proj)",
    "4.5x vision tower path": r".*vision_tower\.vision_model\.encoder\.layers\.\d+\.self_attn\.q_proj",
}
for label, target in TARGETS.items():
    torch.manual_seed(0)
    model = gen.builders()["Gemma3ForConditionalGeneration"]()
    try:
        adapted = get_peft_model(model, LoraConfig(r=2, target_modules=target))
        count = sum(1 for name, _ in adapted.named_modules() if name.endswith(".lora_A"))
        result = {"adapted_modules": count}
    except ValueError as exc:
        result = {"raised": f"ValueError: {str(exc).splitlines()[0][:120]}"}
    print(
        json.dumps(
            {
                "case": label,
                "target_modules": target,
                **result,
                "transformers": transformers.__version__,
                "peft": peft.__version__,
            }
        )
    )
