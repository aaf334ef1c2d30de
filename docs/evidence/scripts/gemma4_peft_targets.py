"""GD702 and GD703's evidence: what PEFT's target_modules reach on Gemma 4. A tiny
Gemma4ForConditionalGeneration with vision and audio towers, and a tiny mixture-of-experts
Gemma4ForCausalLM, built from configs on the CPU.

    python docs/evidence/scripts/gemma4_peft_targets.py    # one JSON line per case, with the versions
"""

import json
import warnings

warnings.filterwarnings("ignore")

import peft  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import (  # noqa: E402
    Gemma4AudioConfig,
    Gemma4Config,
    Gemma4ForCausalLM,
    Gemma4ForConditionalGeneration,
    Gemma4TextConfig,
    Gemma4VisionConfig,
)

transformers.logging.set_verbosity_error()


def show(**fields):
    fields.update(transformers=transformers.__version__, peft=peft.__version__)
    print(json.dumps(fields), flush=True)


def text_config(**extra):
    return Gemma4TextConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        global_head_dim=32,
        hidden_size_per_layer_input=8,
        vocab_size_per_layer_input=128,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention"],
        **extra,
    )


def multimodal():
    torch.manual_seed(0)
    vision = Gemma4VisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=16,
    )
    audio = Gemma4AudioConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        output_proj_dims=32,
        subsampling_conv_channels=[8, 8],
    )
    config = Gemma4Config(
        text_config=text_config().to_dict(), vision_config=vision.to_dict(), audio_config=audio.to_dict()
    )
    return Gemma4ForConditionalGeneration(config)


def adapted(model):
    """Where the LoRA modules went, by part of the model."""
    parts: dict[str, int] = {}
    for name, _module in model.named_modules():
        if name.endswith(".lora_A"):
            part = next((p for p in ("language_model", "vision_tower", "audio_tower") if p in name), "other")
            parts[part] = parts.get(part, 0) + 1
    return parts


clipped = sum(type(m).__name__ == "Gemma4ClippableLinear" for m in multimodal().modules())
show(case="towers", clippable_linear_modules=clipped)
for targets in (["q_proj", "v_proj"], ["o_proj"], "all-linear", r".*language_model.*\.(q_proj|v_proj)", None):
    try:
        model = get_peft_model(multimodal(), LoraConfig(r=4, lora_alpha=8, target_modules=targets))
        show(case="multimodal", target_modules=targets, adapters=adapted(model))
    except Exception as exc:  # noqa: BLE001 - the error is the result
        show(case="multimodal", target_modules=targets, error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

torch.manual_seed(0)
moe = Gemma4ForCausalLM(text_config(enable_moe_block=True, num_experts=4, top_k_experts=2, moe_intermediate_size=16))
experts = sum(p.numel() for n, p in moe.named_parameters() if ".experts." in n)
for extra in ({}, {"target_parameters": ["experts.gate_up_proj", "experts.down_proj"]}):
    torch.manual_seed(0)
    model = Gemma4ForCausalLM(
        text_config(enable_moe_block=True, num_experts=4, top_k_experts=2, moe_intermediate_size=16)
    )
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", **extra))
    touched = sorted(
        {n.split(".lora")[0].rsplit(".", 1)[-1] for n, _ in model.named_parameters() if "lora" in n and "expert" in n}
    )
    router = any("router" in n and "lora" in n for n, _ in model.named_parameters())
    show(
        case="moe",
        target_parameters=extra.get("target_parameters"),
        expert_parameters=experts,
        expert_adapters=touched,
        router_adapted=router,
        trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )
