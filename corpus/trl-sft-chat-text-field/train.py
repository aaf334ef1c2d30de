# Written here in the pattern of small public TRL projects
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

from prepare import MODEL_ID, load_rows, tokenizer

model = AutoModelForCausalLM.from_pretrained(MODEL_ID, dtype="bfloat16", attn_implementation="eager")
dataset = Dataset.from_list(load_rows())
config = SFTConfig(
    output_dir="gemma3-sft",
    dataset_text_field="text",
    bf16=True,
    per_device_train_batch_size=4,
    num_train_epochs=1,
    logging_steps=10,
)
lora = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], task_type="CAUSAL_LM")
trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=lora)
trainer.train()
trainer.save_model("gemma3-sft/final")
