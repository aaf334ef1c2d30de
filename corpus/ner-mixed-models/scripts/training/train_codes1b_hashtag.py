"""Written here in the pattern of pakkio/gemma3-270M-finetuning-ner@5810532c scripts/training/train_codes1b_*.py:
the same repository trains a non-Gemma model (seeklhy/codes-1b) in fp16."""
import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

MODEL_NAME = "seeklhy/codes-1b"


def main():
    model = AutoModelForCausalLM.from_pretrained(MODEL_NAME, torch_dtype=torch.float16)
    args = TrainingArguments(output_dir="outputs/codes1b", fp16=True, eval_strategy="steps", eval_steps=50,
                             num_train_epochs=3, learning_rate=2e-4)
    Trainer(model=model, args=args).train()


if __name__ == "__main__":
    main()
