"""GD301's evidence for the transformers 4.50.0 mapping: a multimodal gemma3 checkpoint loaded through
AutoModelForCausalLM (as a script does, and as TRL's SFTTrainer does for a model named by a string). A tiny
Gemma3ForConditionalGeneration is saved, then loaded back that way: which class, which keys are missing or
left unused, and whether the language model's weights are the checkpoint's.

    python docs/evidence/scripts/gemma3_auto_causal_lm_multimodal.py    # one JSON line, with the versions
"""

import json
import tempfile
import warnings

import torch
import transformers
from transformers import AutoModelForCausalLM, Gemma3Config, Gemma3ForConditionalGeneration

warnings.filterwarnings("ignore")


def main():
    text = {
        "vocab_size": 300,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 28,
        "patch_size": 14,
    }
    torch.manual_seed(0)
    config = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4, image_token_index=299)
    model = Gemma3ForConditionalGeneration(config)
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        loaded, info = AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
    original = {k.split("language_model.", 1)[-1]: v for k, v in model.state_dict().items() if "language_model" in k}
    ours = loaded.state_dict()
    same = all(torch.equal(ours[k], v) for k, v in original.items() if k in ours)
    print(
        json.dumps(
            {
                "transformers": transformers.__version__,
                "class": type(loaded).__name__,
                "missing": len(info["missing_keys"]),
                "unexpected": len(info["unexpected_keys"]),
                "unexpected_vision": sum("vision" in k for k in info["unexpected_keys"]),
                "language_weights_equal": same,
                "compared": sum(k in ours for k in original),
            }
        )
    )


if __name__ == "__main__":
    main()
