# The Unsloth notebook pattern on Gemma 3 270M: FastModel, a LoRA adapter, TRL's SFTTrainer in bf16.
from unsloth import FastModel

from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

model, tokenizer = FastModel.from_pretrained("unsloth/gemma-3-270m-it", max_seq_length=2048, load_in_4bit=False)
model = FastModel.get_peft_model(model, r=8, lora_alpha=16, lora_dropout=0, target_modules=["q_proj", "v_proj"])
dataset = load_dataset("json", data_files="train.jsonl", split="train")
trainer = SFTTrainer(
    model=model,
    tokenizer=tokenizer,
    train_dataset=dataset,
    eval_dataset=dataset,
    args=SFTConfig(output_dir="outputs", bf16=True, eval_strategy="steps", eval_steps=50, max_steps=60),
)
trainer.train()
