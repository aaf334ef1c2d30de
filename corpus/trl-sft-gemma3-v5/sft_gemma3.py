"""Written here in the pattern of TRL's examples/scripts/sft_gemma3.py (transformers 5, TRL 1.x): a
multimodal Gemma 3 fine-tuned with SFTTrainer, evaluation on, precision left to TRL's default."""
import torch
from datasets import load_dataset
from transformers import AutoModelForImageTextToText, AutoProcessor
from trl import SFTConfig, SFTTrainer

model_id = "google/gemma-3-4b-it"
model = AutoModelForImageTextToText.from_pretrained(model_id, dtype=torch.bfloat16)
processor = AutoProcessor.from_pretrained(model_id)
dataset = load_dataset("my-org/vision-chat")

training_args = SFTConfig(
    output_dir="gemma-3-4b-sft",
    per_device_train_batch_size=1,
    gradient_accumulation_steps=8,
    eval_strategy="steps",
    eval_steps=100,
    max_length=None,
)
trainer = SFTTrainer(model=model, args=training_args, train_dataset=dataset["train"],
                     eval_dataset=dataset["test"], processing_class=processor)
trainer.train()
