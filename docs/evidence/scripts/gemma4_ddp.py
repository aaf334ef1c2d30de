"""GD706 and GD701's evidence: Gemma 4 under DDP. A tiny Gemma4ForConditionalGeneration (vision and audio
towers, from gemma4_peft_targets.py), LoRA on "all-linear" (which reaches the towers) or on the language model
only, text-only batches, two CPU processes (gloo), three steps, with and without find_unused_parameters, and
with reentrant and non-reentrant gradient checkpointing.

    python docs/evidence/scripts/gemma4_ddp.py    # one JSON line per case, with the versions (~2 minutes)
"""
import json, os, sys, warnings
warnings.filterwarnings("ignore")
import torch, torch.distributed as dist, torch.multiprocessing as mp
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def worker(rank, case, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(29500 + case["port"]))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    import io, contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        import gemma4_peft_targets as g
    from peft import LoraConfig, get_peft_model
    model = g.multimodal()
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=case["targets"]))
    if case["checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": case["reentrant"]})
        model.enable_input_require_grads()
    model.train()
    ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=case["find_unused"])
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    outcome = "ok"
    try:
        for step in range(3):
            ids = torch.randint(0, 100, (2, 8))
            loss = ddp(input_ids=ids, labels=ids).loss
            loss.backward()
            optimizer.step(); optimizer.zero_grad()
    except Exception as exc:
        outcome = f"step {step}: {type(exc).__name__}: {str(exc).splitlines()[0][:150]}"
    if rank == 0:
        queue.put(outcome)
    try:
        dist.destroy_process_group()
    except Exception:
        pass


if __name__ == "__main__":
    import transformers, peft
    cases = []
    port = 0
    for targets in ("all-linear", r".*language_model.*\.(q_proj|v_proj)"):
        for find_unused in (False, True):
            for checkpointing, reentrant in ((False, None), (True, True), (True, False)):
                port += 1
                cases.append(dict(targets=targets, find_unused=find_unused, checkpointing=checkpointing, reentrant=reentrant, port=port))
    ctx = mp.get_context("spawn")
    for case in cases:
        queue = ctx.Queue()
        procs = [ctx.Process(target=worker, args=(rank, case, queue)) for rank in range(2)]
        for p in procs: p.start()
        for p in procs: p.join(timeout=120)
        result = queue.get(timeout=5) if not queue.empty() else "no result (hung or crashed)"
        for p in procs:
            if p.is_alive(): p.kill()
        print(json.dumps({**{k: v for k, v in case.items() if k != "port"}, "result": result, "transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__}), flush=True)
