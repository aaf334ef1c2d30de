"""GD101's evidence for LoRA: under fp16 mixed precision the GradScaler unscales the gradients of what the
optimizer steps, the LoRA adapters, not the base weights. A tiny Gemma3ForCausalLM is loaded in bf16 and in
fp16, wrapped with get_peft_model (or not: the full fine-tune control), and one fp16-autocast step is taken with a GradScaler (on the CPU, which has
both since torch 2.3): the adapters' dtype, and whether the step raises.

    python docs/evidence/scripts/gemma_lora_adapter_dtype.py    # one JSON line per case, with the versions
"""

import json
import warnings

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model

transformers.logging.set_verbosity_error()
warnings.filterwarnings("ignore")


def show(**fields):
    fields.update(transformers=transformers.__version__, peft=peft.__version__, torch=torch.__version__)
    print(json.dumps(fields), flush=True)


def main():
    config = transformers.Gemma3TextConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
    )
    for dtype, lora in ((torch.bfloat16, True), (torch.float16, True), (torch.bfloat16, False), (torch.float16, False)):
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
        if lora:  # else the control: a full fine-tune of the same weights
            model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
        trained = sorted({str(p.dtype) for p in model.parameters() if p.requires_grad})
        scaler = torch.amp.GradScaler("cpu")
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        ids = torch.randint(0, 128, (1, 8))
        with torch.autocast("cpu", dtype=torch.float16):
            loss = model(input_ids=ids, labels=ids).loss
        scaler.scale(loss).backward()
        try:
            scaler.step(optimizer)
            scaler.update()
            step = "ok"
        except Exception as error:  # the GradScaler's own failures are the finding
            step = f"{type(error).__name__}: {error}"
        show(base=str(dtype), lora=lora, trained=trained, step=step[:160])


if __name__ == "__main__":
    main()
