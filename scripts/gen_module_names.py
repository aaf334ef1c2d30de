"""Generate rules/data/module_names.json: the linear module paths of each Gemma class, as the transformers
that runs this script names them. GD704 holds LoRA target_modules against them without importing torch.

    python scripts/gen_module_names.py            # prints this transformers' entry as JSON
    python scripts/gen_module_names.py --merge    # and writes it into rules/data/module_names.json

Each class is built from a tiny config on the meta device (no weights); layer indices are written as {N}.
Run it once per transformers release on each side of a change of names (4.52.0 moved the multimodal
Gemma 3's language model from language_model.model.* to model.language_model.*).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import torch
import transformers

transformers.logging.set_verbosity_error()
DATA = Path(__file__).resolve().parent.parent / "rules" / "data" / "module_names.json"
_INDEX = re.compile(r"\.(\d+)(?=\.|$)")


def text_config(name: str, **extra):
    config = getattr(transformers, name)
    kwargs = dict(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
    )
    kwargs.update(extra)
    return config(**kwargs)


def builders():
    """class name -> a function building it (only what this transformers has)."""
    found = {}
    if hasattr(transformers, "Gemma2ForCausalLM"):
        found["Gemma2ForCausalLM"] = lambda: transformers.Gemma2ForCausalLM(text_config("Gemma2Config"))
    if hasattr(transformers, "Gemma3ForCausalLM"):
        found["Gemma3ForCausalLM"] = lambda: transformers.Gemma3ForCausalLM(
            text_config("Gemma3TextConfig", sliding_window=8)
        )

        def gemma3_multimodal():
            vision = transformers.SiglipVisionConfig(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=28,
                patch_size=14,
            )
            text = text_config("Gemma3TextConfig", sliding_window=8)
            return transformers.Gemma3ForConditionalGeneration(
                transformers.Gemma3Config(
                    text_config=text.to_dict(), vision_config=vision.to_dict(), mm_tokens_per_image=4
                )
            )

        found["Gemma3ForConditionalGeneration"] = gemma3_multimodal
    if hasattr(transformers, "Gemma4ForCausalLM"):

        def gemma4_text():
            return text_config(
                "Gemma4TextConfig",
                global_head_dim=16,
                hidden_size_per_layer_input=8,
                vocab_size_per_layer_input=64,
                sliding_window=4,
                layer_types=["sliding_attention", "full_attention"],
            )

        found["Gemma4ForCausalLM"] = lambda: transformers.Gemma4ForCausalLM(gemma4_text())

        def gemma4_multimodal():
            vision = transformers.Gemma4VisionConfig(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                num_key_value_heads=2,
                head_dim=8,
            )
            audio = transformers.Gemma4AudioConfig(
                hidden_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                output_proj_dims=16,
                subsampling_conv_channels=[8, 8],
            )
            config = transformers.Gemma4Config(
                text_config=gemma4_text().to_dict(), vision_config=vision.to_dict(), audio_config=audio.to_dict()
            )
            return transformers.Gemma4ForConditionalGeneration(config)

        found["Gemma4ForConditionalGeneration"] = gemma4_multimodal
    return found


def linear_names(model) -> list[str]:
    names = set()
    for name, module in model.named_modules():
        if name and type(module).__name__.endswith("Linear"):  # a wrapper (Gemma4ClippableLinear) is a target too
            names.add(_INDEX.sub(".{N}", name))
    return sorted(names)


def entry() -> dict:
    classes = {}
    for name, build in builders().items():
        with torch.device("meta"):
            classes[name] = linear_names(build())
    return {"generated_with": transformers.__version__, "classes": classes}


if __name__ == "__main__":
    found = entry()
    print(json.dumps(found, indent=1))
    if "--merge" in sys.argv:
        data = (
            json.loads(DATA.read_text())
            if DATA.exists()
            else {"source": __doc__.strip().splitlines()[0], "releases": []}
        )
        data["releases"] = [r for r in data["releases"] if r["generated_with"] != found["generated_with"]] + [found]
        data["releases"].sort(key=lambda r: [int(p) for p in re.findall(r"\d+", r["generated_with"])[:3]])
        DATA.write_text(json.dumps(data, indent=1) + "\n")
