"""Written here in the pattern of pakkio/gemma3-270M-finetuning-ner@5810532c scripts/simple_gemma3_hashtagger.py."""
import argparse

import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


def load_examples(path):
    with open(path) as handle:
        return [line for line in handle]


def simple_gemma_training(
    model_id="google/gemma-3-270m",
    train_path="data/train.jsonl",
    output_dir="outputs/hashtagger",
    epochs=2,
):
    """Simplified training."""
    print(f"Loading {model_id}")
    model = AutoModelForCausalLM.from_pretrained(
        model_id,
        torch_dtype=torch.float16 if torch.cuda.is_available() else torch.float32,
        device_map="auto" if torch.cuda.is_available() else None,
        attn_implementation="eager",
        use_cache=False,  # Disable cache for training
    )
    model = prepare_model_for_kbit_training(model)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    training_args = TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=epochs,
        per_device_train_batch_size=2,
        learning_rate=1e-4,
        logging_steps=10,
        bf16=False,  # Use fp16 or fp32
        fp16=torch.cuda.is_available(),
        gradient_checkpointing=False,
        report_to=None,
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=load_examples(train_path))
    trainer.train()


def main():
    parser = argparse.ArgumentParser(description="Simple Gemma3 Hashtagger Training")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    simple_gemma_training(epochs=args.epochs)


if __name__ == "__main__":
    main()
