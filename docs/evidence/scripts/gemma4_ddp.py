"""GD706 and GD701's evidence: Gemma 4 under DDP. A tiny Gemma4ForConditionalGeneration (vision and audio
towers, from gemma4_peft_targets.py), LoRA on "all-linear" (which reaches the towers) or on the language model
only, text-only batches, two CPU processes (gloo), three steps, with and without find_unused_parameters, and
with reentrant and non-reentrant gradient checkpointing.

    python docs/evidence/scripts/gemma4_ddp.py    # one JSON line per case, with the versions (~2 minutes)
"""

import contextlib
import io
import json
import os
import sys
import warnings

import peft
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import transformers
from peft import LoraConfig, get_peft_model

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
LANGUAGE_MODEL = r".*language_model.*\.(q_proj|v_proj)"


def worker(rank, case, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(29500 + case["port"]))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    with contextlib.redirect_stdout(io.StringIO()):  # the module prints its own measurements on import
        import gemma4_peft_targets as tiny
    model = get_peft_model(tiny.multimodal(), LoraConfig(r=4, lora_alpha=8, target_modules=case["targets"]))
    if case["checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": case["reentrant"]})
        model.enable_input_require_grads()
    model.train()
    ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=case["find_unused"])
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    outcome, steps = "ok", 0
    try:
        while steps < 3:
            ids = torch.randint(0, 100, (2, 8))
            ddp(input_ids=ids, labels=ids).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            steps += 1
    except Exception as exc:  # noqa: BLE001 - DDP's error is the result
        outcome = f"step {steps}: {type(exc).__name__}: {str(exc).splitlines()[0][:150]}"
    if rank == 0:
        queue.put(outcome)
    with contextlib.suppress(Exception):  # the other rank may have left already
        dist.destroy_process_group()


def main():
    context = mp.get_context("spawn")
    port = 0
    for targets in ("all-linear", LANGUAGE_MODEL):
        for find_unused in (False, True):
            for checkpointing, reentrant in ((False, None), (True, True), (True, False)):
                port += 1
                case = dict(targets=targets, find_unused=find_unused, checkpointing=checkpointing, port=port)
                case["reentrant"] = reentrant
                queue = context.Queue()
                processes = [context.Process(target=worker, args=(rank, case, queue)) for rank in range(2)]
                for process in processes:
                    process.start()
                for process in processes:
                    process.join(timeout=120)
                    if process.is_alive():
                        process.kill()
                result = queue.get(timeout=5) if not queue.empty() else "no result (hung or crashed)"
                del case["port"]
                versions = dict(transformers=transformers.__version__, peft=peft.__version__, torch=torch.__version__)
                print(json.dumps({**case, "result": result, **versions}), flush=True)


if __name__ == "__main__":
    main()
