# Written here in the pattern of small public ms-swift projects: the arguments built in a
# function and handed to the pipeline, with the dtype picked "for a T4".
from swift.arguments import SftArguments
from swift.pipelines.train.sft import SwiftSft


def make_args() -> SftArguments:
    return SftArguments(
        model="./models/gemma-3-1b-it",
        tuner_type="lora",
        dataset="data/train.jsonl",
        lora_rank=8,
        target_modules="all-linear",
        torch_dtype="float32",  # "T4 has no bf16"
        per_device_train_batch_size=2,
        output_dir="output",
    )


if __name__ == "__main__":
    SwiftSft(make_args()).main()
