"""Written here in the pattern of the trl#5807 report: text-only SFT of a multimodal Gemma 3 checkpoint
with TRL on transformers 5.0-5.5, where Gemma3ForConditionalGeneration requires token_type_ids."""
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

dataset = load_dataset("trl-lib/Capybara", split="train")
trainer = SFTTrainer(
    model="google/gemma-3-4b-it",
    args=SFTConfig(output_dir="gemma-3-4b-text-sft", bf16=True),
    train_dataset=dataset,
)
trainer.train()
