# Written here in the pattern of small public TRL projects (a dataset module that renders each conversation
# to text, a train script that hands the text column to SFTTrainer)
import json

from transformers import AutoTokenizer

MODEL_ID = "google/gemma-3-1b-it"
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)


def to_row(record):
    conversation = [
        {"role": "user", "content": record["instruction"]},
        {"role": "assistant", "content": record["output"]},
    ]
    row = {}
    row["text"] = tokenizer.apply_chat_template(conversation, tokenize=False)
    return row


def load_rows(path="data/train.jsonl"):
    with open(path) as handle:
        return [to_row(json.loads(line)) for line in handle]
