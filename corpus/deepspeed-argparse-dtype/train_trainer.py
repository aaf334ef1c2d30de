"""Written here in the pattern of New2World/pretrained-LLM-practice@2fd8412d train_trainer.py:
the precision comes from an argparse flag whose default (bf16) is set after the function."""
import argparse

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments


def train(args):
    model = AutoModelForCausalLM.from_pretrained("google/gemma-2b", torch_dtype=torch.bfloat16)
    training_args = TrainingArguments(
        output_dir=args.output_dir,
        fp16=(args.dtype == "fp16"),
        bf16=(args.dtype == "bf16"),
        gradient_checkpointing=True,
        deepspeed="ds_config_zero1.json",
    )
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dtype", type=str, choices=["fp16", "bf16", "fp32"], default="bf16")
    parser.add_argument("--output_dir", default="out")
    train(parser.parse_args())
