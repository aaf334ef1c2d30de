# TRL GRPO on Gemma 3 270M with a length reward, bf16 and four generations per prompt.
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer
def reward_len(completions, **kwargs):
    return [-abs(20 - len(c)) for c in completions]
data = load_dataset("trl-lib/tldr", split="train")
config = GRPOConfig(output_dir="grpo", bf16=True, num_generations=4)
trainer = GRPOTrainer(model="google/gemma-3-270m", reward_funcs=reward_len, args=config, train_dataset=data)
trainer.train()
