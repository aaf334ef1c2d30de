#!/bin/bash
# Written here in the pattern of ms-swift's shell examples: the same LoRA run from the CLI, for two T4s.
NPROC_PER_NODE=2 \
CUDA_VISIBLE_DEVICES=0,1 \
swift sft \
    --model ./models/gemma-3-1b-it \
    --train_type lora \
    --dataset data/train.jsonl \
    --lora_rank 8 \
    --target_modules all-linear \
    --per_device_train_batch_size 2 \
    --output_dir output
