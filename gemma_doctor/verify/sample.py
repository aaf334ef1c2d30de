"""``gemma-doctor sample [PATH]``: the first training example, rendered through the project's own data
path, with the label of every token. Axolotl users know this view from ``preprocess --debug``; here it is
built for the data paths gemma-doctor reads in code and TRL recipes.

What it uses, each from the run the static check assembled:
- the tokenizer of the run's model folder (its tokenizer files; no Hub);
- the first row of its local dataset file (``load_dataset("json" | "csv" | "parquet", data_files=...)``);
- the path the code takes from row to ids, as the static reader saw it:
  - ``tokenizer(apply_chat_template(..., tokenize=False))``, with its ``add_special_tokens`` and any
    stripped ``<bos>``, then transformers' ``DataCollatorForLanguageModeling`` labels (pad ids masked);
  - ``apply_chat_template(..., tokenize=True)``;
  - TRL's SFTTrainer preparation, run for real on a tiny model of the tokenizer's vocabulary: a text field
    holding the rendered chat, or the rows as they are (messages, prompt-completion), with the project's
    ``assistant_only_loss`` / ``completion_only_loss``.
What it cannot use is said ("not exercised"), never guessed: exit 3, as verify's inconclusive.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gemma_doctor.errors import UsageError

EXIT_SHOWN, EXIT_NOT_EXERCISED = 0, 3
IGNORE = -100


class NotExercised(Exception):
    """The sample cannot be built from what the project has: the reason, in one sentence."""


def run_sample(args) -> int:
    from gemma_doctor.settings import resolve
    from gemma_doctor.verify.command import _require_extra, project_setup

    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{args.path}: no such file or directory")
    settings = resolve(args, [path])
    entry, setup = project_setup(path, settings.options, args.run)
    try:
        _require_extra()
        shown = render(setup)
    except NotExercised as exc:
        return _report(args, {"entry": entry, "not_exercised": str(exc)}, EXIT_NOT_EXERCISED)
    shown["entry"] = entry
    return _report(args, shown, EXIT_SHOWN)


# --- what the run uses ------------------------------------------------------------------------------
def tokenizer_folder(setup) -> Path:
    for fact in setup.facts:
        if fact.origin == "tokenizer" and fact.location.path:
            return Path(fact.location.path).parent
    raise NotExercised(
        "no tokenizer files: the run's model folder (or its Hugging Face cache entry) has no tokenizer_config.json"
    )


def first_rows(setup, count: int = 1) -> tuple[str, list[dict]]:
    fact = setup.first("data_file")
    if fact is None:
        raise NotExercised("no local dataset file: the run's data comes from the Hub or from code not followed")
    file = Path(str(fact.value))
    suffix = file.suffix.lower()
    rows: list[dict] = []
    if suffix == ".jsonl":
        with open(file, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    rows.append(json.loads(line))
                if len(rows) == count:
                    break
    elif suffix == ".json":
        with open(file, encoding="utf-8") as handle:
            value = json.load(handle)
        rows = value[:count] if isinstance(value, list) else []
    elif suffix == ".csv":
        import csv

        with open(file, encoding="utf-8", newline="") as handle:
            rows = [row for _, row in zip(range(count), csv.DictReader(handle))]
    elif suffix == ".parquet":
        import pyarrow.parquet as parquet

        rows = parquet.read_table(file).slice(0, count).to_pylist()
    if not rows or not isinstance(rows[0], dict):
        raise NotExercised(f"{file}: no first row of columns to read")
    return str(file), rows


def _messages(row: dict) -> list[dict]:
    for key in ("messages", "conversations", "conversation"):
        if isinstance(row.get(key), list):
            return row[key]
    if isinstance(row.get("prompt"), list) and isinstance(row.get("completion"), list):
        return row["prompt"] + row["completion"]
    raise NotExercised(f"the first row has no conversation (columns: {', '.join(row)})")


# --- the data paths ---------------------------------------------------------------------------------------
def render(setup) -> dict:
    import warnings

    import transformers

    transformers.logging.set_verbosity_error()
    warnings.filterwarnings("ignore")  # deprecation notes of the stack: not the sample's business
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    folder = tokenizer_folder(setup)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    if tokenizer.chat_template is None:
        raise NotExercised(f"{folder}: the tokenizer has no chat template")
    data_file, rows = first_rows(setup)
    row = rows[0]
    if setup.first("pad_is_eos") is not None:
        tokenizer.pad_token = tokenizer.eos_token  # what the script does before it tokenizes
    if setup.trl_trainer == "SFTTrainer" and setup.uses_unsloth is None:
        if setup.first("chat_text_field") is not None:
            text = tokenizer.apply_chat_template(_messages(row), tokenize=False)
            ids, labels = _trl(setup, tokenizer, {"text": text})
            how = "SFTTrainer on a text field holding apply_chat_template(..., tokenize=False)"
        elif not setup.first("chat_tokenized_with_bos") and not setup.first("chat_tokenized_once"):
            ids, labels = _trl(setup, tokenizer, row)
            how = "SFTTrainer's own preparation of the row"
        else:
            ids, labels, how = _code(setup, tokenizer, row)
    else:
        ids, labels, how = _code(setup, tokenizer, row)
    return describe(setup, tokenizer, ids, labels, how, data_file)


def _code(setup, tokenizer, row: dict):
    """The tokenizer calls of the project's code, then the labels its collator makes."""
    messages = _messages(row)
    with_bos, once = setup.first("chat_tokenized_with_bos"), setup.first("chat_tokenized_once")
    without = setup.first("chat_tokenized_without_bos")
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    if with_bos is not None:
        ids = tokenizer(text)["input_ids"]
        how = (
            f"{with_bos.value} (line {with_bos.location.line}): apply_chat_template(tokenize=False), then the tokenizer"
        )
    elif without is not None:
        ids = tokenizer(text.removeprefix(tokenizer.bos_token), add_special_tokens=False)["input_ids"]
        how = f"{without.value} (line {without.location.line}): <bos> stripped, then add_special_tokens=False"
    elif once is not None:
        if once.value == "stripped":
            ids = tokenizer(text.removeprefix(tokenizer.bos_token))["input_ids"]
        else:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        how = f"{once.value.replace('-', ' ')} (line {once.location.line}): one <bos>"
    elif any(f.value == "ids" for f in setup.all("chat_rendered")):
        encoded = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)
        ids = list(encoded["input_ids"])
        how = "apply_chat_template(..., tokenize=True)"
    else:
        raise NotExercised("no tokenization of a chat that gemma-doctor follows in the run's code")
    labels = list(ids)
    if setup.first("lm_collator") is not None and tokenizer.pad_token_id is not None:
        # DataCollatorForLanguageModeling(mlm=False): labels are the ids, with every pad id masked
        labels = [IGNORE if token == tokenizer.pad_token_id else token for token in ids]
        how += ", labels by DataCollatorForLanguageModeling(mlm=False)"
    return list(ids), labels, how


def _trl(setup, tokenizer, row: dict):
    """TRL's SFTTrainer preparation, for real, on a tiny model of the tokenizer's vocabulary."""
    import tempfile

    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    config_args: dict = {}
    for name in ("assistant_only_loss", "completion_only_loss", "dataset_text_field"):
        fact = setup.first(name)
        if fact is not None and isinstance(fact.value, (bool, str)):
            config_args[name] = fact.value
    if "text" in row and len(row) == 1:
        config_args["dataset_text_field"] = "text"
    model_config = transformers_config(len(tokenizer))
    import transformers

    torch.manual_seed(0)
    model = transformers.Gemma3ForCausalLM(model_config)
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, max_steps=1, report_to=[], bf16=False, use_cpu=True, **config_args)
        try:
            trainer = SFTTrainer(
                model=model, args=args, train_dataset=Dataset.from_list([row]), processing_class=tokenizer
            )
        except (ValueError, RuntimeError) as exc:
            raise NotExercised(
                f"SFTTrainer refused the row: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            ) from None
        prepared = trainer.train_dataset
        assert prepared is not None  # SFTTrainer was given one
        batch = trainer.data_collator([prepared[0]])
    return batch["input_ids"][0].tolist(), batch["labels"][0].tolist()


def transformers_config(vocab: int):
    import transformers

    return transformers.Gemma3TextConfig(
        vocab_size=vocab, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=1,
        num_key_value_heads=1, head_dim=8, sliding_window=8, layer_types=["full_attention"],
    )  # fmt: skip


# --- the view ----------------------------------------------------------------------------------------------
def describe(setup, tokenizer, ids: list[int], labels: list[int], how: str, data_file: str) -> dict:
    from gemma_doctor.setup.chat import family_tokens

    tokens = family_tokens(setup) or {}
    turn_end = tokens.get("turn_end", "<end_of_turn>")
    turn_id = tokenizer.convert_tokens_to_ids(turn_end)
    # Labels are the ids the loss targets; a causal LM shifts them, so the first position never counts.
    trained = [label != IGNORE for label in labels]
    pieces = tokenizer.convert_ids_to_tokens(ids)
    bos = tokenizer.bos_token_id
    leading_bos = next((i for i, token in enumerate(ids) if token != bos), len(ids))
    turn_end_trained = any(t and token == turn_id for t, token in zip(trained[1:], ids[1:]))
    confirms = []
    if leading_bos >= 2:
        confirms.append("GD803")
    if leading_bos == 0:
        confirms.append("GD804")
    if turn_id in ids and not turn_end_trained:
        confirms.append("GD801")
    return {
        "data_file": data_file,
        "row": 1,
        "path": how,
        "tokens": [{"id": i, "token": p, "trained": t} for i, p, t in zip(ids, pieces, trained)],
        "bos_count": ids.count(bos) if bos is not None else 0,
        "leading_bos": leading_bos,
        "turn_end": turn_end,
        "turn_end_trained": turn_end_trained,
        "trained_share": round(sum(trained[1:]) / max(len(ids) - 1, 1), 4),
        "confirms": confirms,
    }


def _report(args, shown: dict, code: int) -> int:
    if args.format == "json":
        sys.stdout.write(json.dumps({"version": 1, **shown}, ensure_ascii=False) + "\n")
        return code
    if "not_exercised" in shown:
        sys.stdout.write(f"{shown['entry']}: sample not exercised: {shown['not_exercised']}\n")
        return code
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    parts = []
    for token in shown["tokens"]:
        piece = token["token"].replace("\n", "\\n").replace("▁", " ")
        if token["trained"]:
            parts.append(f"\x1b[1;32m{piece}\x1b[0m" if color else f"[{piece}]")
        else:
            parts.append(piece)
    legend = "trained tokens in green" if color else "trained tokens in [brackets]"
    lines = [
        f"{shown['entry']}: row {shown['row']} of {shown['data_file']}",
        f"  through {shown['path']}",
        f"  ({legend}; the label of the first token never counts)",
        "  " + "".join(parts),
        f"  <bos> at the start: {shown['leading_bos']}"
        + {0: " (none: GD804)", 1: ""}.get(shown["leading_bos"], " (doubled: GD803)"),
        f"  {shown['turn_end']} trained: {'yes' if shown['turn_end_trained'] else 'no'}",
        f"  tokens trained: {shown['trained_share']:.0%}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return code
