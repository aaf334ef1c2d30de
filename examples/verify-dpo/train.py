# TRL DPO on Gemma 3 270M with bf16, gradient checkpointing and an evaluation step.
from datasets import load_dataset
from trl import DPOConfig, DPOTrainer
data = load_dataset("trl-lib/ultrafeedback_binarized")
config = DPOConfig(output_dir="dpo", bf16=True, eval_strategy="steps", eval_steps=100, gradient_checkpointing=True)
trainer = DPOTrainer(model="google/gemma-3-270m", args=config, train_dataset=data["train"], eval_dataset=data["test"])
trainer.train()
