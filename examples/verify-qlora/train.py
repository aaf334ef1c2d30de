# The QLoRA pattern of many Gemma 3 tutorials: 4-bit weights with a float16 compute dtype,
# PEFT's kbit preparation, a LoRA adapter and fp16 mixed precision (GD101, GD102).
import torch
from datasets import load_dataset
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments

base = "google/gemma-3-1b-it"
quantization = BitsAndBytesConfig(
    load_in_4bit=True,
    bnb_4bit_quant_type="nf4",
    bnb_4bit_compute_dtype=torch.float16,
)
model = AutoModelForCausalLM.from_pretrained(base, quantization_config=quantization, device_map="auto")
model = prepare_model_for_kbit_training(model)
lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
model = get_peft_model(model, lora)

data = load_dataset("json", data_files="train.jsonl")["train"]
arguments = TrainingArguments(
    output_dir="out",
    per_device_train_batch_size=4,
    learning_rate=2e-4,
    fp16=True,
    eval_strategy="steps",
    eval_steps=100,
)
trainer = Trainer(model=model, args=arguments, train_dataset=data, eval_dataset=data)
trainer.train()
