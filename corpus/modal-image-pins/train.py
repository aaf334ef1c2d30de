# Written here in the pattern of Modal fine-tuning examples.
from common import app


@app.function(gpu="A10G", timeout=3600)
def train(model_id: str = "google/gemma-2-2b-it"):
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype="bfloat16", attn_implementation="eager")
    args = TrainingArguments(
        output_dir="/results",
        bf16=True,
        evaluation_strategy="steps",
        eval_steps=50,
    )
    Trainer(model=model, args=args).train()
