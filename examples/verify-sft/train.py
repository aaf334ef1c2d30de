# TRL's SFTTrainer on Gemma 3 270M with a LoRA adapter, bf16 and an evaluation step.
from datasets import load_dataset
from peft import LoraConfig
from trl import SFTConfig, SFTTrainer

dataset = load_dataset("json", data_files={"train": "train.jsonl", "test": "test.jsonl"})
config = SFTConfig(
    output_dir="gemma3-270m-sft",
    bf16=True,
    gradient_checkpointing=True,
    eval_strategy="steps",
    eval_steps=50,
    per_device_train_batch_size=8,
)
trainer = SFTTrainer(
    model="google/gemma-3-270m",
    args=config,
    train_dataset=dataset["train"],
    eval_dataset=dataset["test"],
    peft_config=LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"),
)
trainer.train()
