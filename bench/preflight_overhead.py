"""What the preflight callback adds to ``train()``: its on_train_begin on a tiny Gemma 3 model, against
the Trainer's own on_train_begin work, measured side by side (median of repeated runs).

    python bench/preflight_overhead.py
"""

from __future__ import annotations

import statistics
import tempfile
import time


def main() -> None:
    import torch
    import transformers

    from gemma_doctor.preflight import GemmaDoctorCallback
    from gemma_doctor.verify.tiny_model import text_model

    model = text_model(torch, transformers, torch.float32)
    rows = [{"input_ids": (ids := torch.randint(3, 250, (16,))), "labels": ids.clone()} for _ in range(4)]
    with tempfile.TemporaryDirectory() as out:
        args = transformers.TrainingArguments(
            output_dir=out, use_cpu=True, max_steps=1, report_to="none", per_device_train_batch_size=2
        )
        callback = GemmaDoctorCallback()
        samples = []
        for _ in range(21):
            start = time.perf_counter()
            callback.on_train_begin(args, None, None, model=model)
            samples.append(time.perf_counter() - start)
        trainer = transformers.Trainer(model=model, args=args, train_dataset=rows)
        start = time.perf_counter()
        trainer.train()
        train = time.perf_counter() - start
    print(
        f"preflight on_train_begin: {statistics.median(samples) * 1000:.1f} ms median of 21 (first call "
        f"{samples[0] * 1000:.1f} ms, goal < 50 ms); one-step train() of the same model: {train * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
