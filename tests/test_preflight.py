"""In-process preflight (gemma_doctor.preflight): the same rules on a live Trainer, before step one.
Real Trainer runs on tiny Gemma 3 models built in code, on the CPU."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest
from conftest import OLD_STACK, pinned_python

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from gemma_doctor.preflight import GemmaDoctorCallback, GemmaDoctorError, check, check_model  # noqa: E402
from gemma_doctor.verify.tiny_model import text_model  # noqa: E402


def tiny_text_model(dtype):
    return text_model(torch, transformers, dtype)


def rows(count=4):
    generator = torch.Generator().manual_seed(1)
    return [
        {"input_ids": (ids := torch.randint(3, 250, (16,), generator=generator)), "labels": ids.clone()}
        for _ in range(count)
    ]


class StepCounter:
    def __init__(self):
        self.steps = 0

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def on_step_end(self, *args, **kwargs):
        self.steps += 1


def trainer(tmp_path, model, callbacks, **arguments):
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        max_steps=2,
        per_device_train_batch_size=2,
        report_to="none",
        **arguments,
    )
    return transformers.Trainer(model=model, args=args, train_dataset=rows(), callbacks=callbacks)


# On this CPU-only machine fp16=True does nothing (accelerate ignores it: GD101 is an info there, tested below), so
# the runs that must stop use fp16_full_eval, which casts the whole model to fp16 for evaluation on any device.
def test_fp16_full_eval_stops_before_the_first_step(tmp_path):
    counter = StepCounter()
    run = trainer(tmp_path, tiny_text_model(torch.bfloat16), [GemmaDoctorCallback(), counter], fp16_full_eval=True)
    with pytest.raises(GemmaDoctorError) as raised:
        run.train()
    assert counter.steps == 0 and raised.value.findings[0].rule == "GD101"
    text = str(raised.value)
    assert (
        text.startswith("GD101 [error] fp16 on a gemma3_text model (fp16_full_eval = True)")
        and "= see: gemma-doctor rule GD101" in text
    )
    assert "docs/rules" not in text  # a pip install has no docs/ folder


def test_fp16_on_the_cpu_is_an_info_and_the_smoke_test_trains(tmp_path):
    """accelerate ignores fp16 on the CPU: the callback says so (an info) and does not stop the run."""
    counter = StepCounter()
    callback = GemmaDoctorCallback(ignore=["GD903"])
    run = trainer(tmp_path, tiny_text_model(torch.bfloat16), [callback, counter], fp16=True)
    assert run.args.use_cpu
    run.train()
    assert counter.steps == 2
    (finding,) = [f for f in callback.findings if f.rule == "GD101"]
    assert finding.severity == "info" and "does nothing here" in finding.message


def test_provenance_of_a_live_value_reads_as_english(tmp_path):
    (finding,) = [f for f in check_model(tiny_text_model(torch.float16)) if f.rule == "GD102"]
    assert "(model parameters' dtype at run time)" in finding.message and "runtime:" not in finding.message


def test_a_clean_run_trains_and_says_nothing(tmp_path):
    counter = StepCounter()
    # GD903 speaks whenever a package newer than the knowledge data is installed, which a fresh install of the
    # newest releases cannot promise (peft 0.22.0 came out on the day this data was checked): not this test's subject.
    callback = GemmaDoctorCallback(ignore=["GD903"])
    run = trainer(tmp_path, tiny_text_model(torch.float32), [callback, counter])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.train()
    assert counter.steps == 2 and callback.findings == []
    assert not [w for w in caught if "GD" in str(w.message)]


def test_options_ignore_warn_and_off(tmp_path, monkeypatch):
    model = tiny_text_model(torch.bfloat16)
    counter = StepCounter()
    trainer(tmp_path, model, [GemmaDoctorCallback(ignore=["GD101"]), counter], fp16_full_eval=True).train()
    assert counter.steps == 2
    with pytest.warns(UserWarning, match="GD101"):
        warn = [GemmaDoctorCallback(on_error="warn")]
        trainer(tmp_path, tiny_text_model(torch.bfloat16), warn, fp16_full_eval=True).train()
    monkeypatch.setenv("GEMMA_DOCTOR", "off")
    trainer(tmp_path, tiny_text_model(torch.bfloat16), [GemmaDoctorCallback()], fp16_full_eval=True).train()


def test_check_and_check_model_return_findings(tmp_path):
    run = trainer(tmp_path, tiny_text_model(torch.bfloat16), [], fp16=True)
    fresh = "GD903"  # a newer release than the data knows, installed by a fresh CI environment: see above
    assert [f.rule for f in check(run) if f.rule != fresh] == ["GD101"]
    assert [f for f in check_model(tiny_text_model(torch.float32)) if f.rule != fresh] == []
    assert {f.rule for f in check_model(tiny_text_model(torch.float16))} - {fresh} == {"GD102"}


def test_importing_preflight_imports_nothing_heavy():
    code = (
        "import sys; import gemma_doctor.preflight; "
        "print(sorted(m for m in ('torch', 'transformers', 'accelerate', 'trl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_axolotl_plugin_installs_the_callback(tmp_path):
    """Axolotl cannot be installed here: a minimal stand-in of its plugin base (axolotl.integrations.base)."""
    from gemma_doctor.axolotl_plugin import GemmaDoctorPlugin

    run = trainer(tmp_path, tiny_text_model(torch.bfloat16), [], fp16_full_eval=True)
    callbacks = GemmaDoctorPlugin().add_callbacks_post_trainer({}, run)
    assert len(callbacks) == 1 and callbacks[0].trainer is run
    run.add_callback(callbacks[0])
    with pytest.raises(GemmaDoctorError):
        run.train()


@pytest.mark.slow
@pytest.mark.parametrize("text_cache, outcome", [(True, "GD202"), (False, "TRAINED")])
def test_hybridcache_crash_is_stopped_before_training_on_4_50(tmp_path, text_cache, outcome):
    script = textwrap.dedent(f"""
        import torch, transformers
        from gemma_doctor.preflight import GemmaDoctorCallback, GemmaDoctorError
        text = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                    num_key_value_heads=1, head_dim=32, sliding_window=8, sliding_window_pattern=2, pad_token_id=0)
        vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=32,
                      patch_size=8)
        config = transformers.Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4,
                                           image_token_index=255, boi_token_index=253, eoi_token_index=254)
        config.text_config.use_cache = {text_cache}
        model = transformers.Gemma3ForConditionalGeneration(config).to(torch.bfloat16)
        rows = [dict(input_ids=(i := torch.randint(3, 250, (16,))), labels=i.clone(), attention_mask=torch.ones(16, dtype=torch.long))
                for _ in range(4)]
        args = transformers.TrainingArguments(output_dir="{tmp_path}/out", use_cpu=True, bf16=True, max_steps=2,
                                              eval_strategy="steps", eval_steps=1, per_device_train_batch_size=2,
                                              report_to="none")
        trainer = transformers.Trainer(model=model, args=args, train_dataset=rows, eval_dataset=rows,
                                       callbacks=[GemmaDoctorCallback()])
        try:
            trainer.train()
            print("TRAINED")
        except GemmaDoctorError as error:
            print(" ".join(f.rule for f in error.findings))
            print(error)
    """)
    old_python = pinned_python(OLD_STACK)  # verify --stack pinned's environment for 4.50.0
    out = subprocess.run([str(old_python), "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert outcome in out.stdout.split(), out.stdout + out.stderr[-2000:]
    if outcome == "GD202":  # the in-script line `fix` writes, and where the value came from in words
        assert "advice: Add `model.config.text_config.use_cache = False` before trainer.train()" in out.stdout
        assert (
            "(model.config.text_config.use_cache at run time)" in out.stdout and "config.json runtime" not in out.stdout
        )


def tiny_tokenizer():
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, **{f"w{i}": i + 4 for i in range(200)}}
    backend = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = Whitespace()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>", unk_token="<unk>"
    )


def test_trl_sft_trainer_runs_with_the_callback_and_sees_its_defaults(tmp_path):
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    generator = torch.Generator().manual_seed(2)
    texts = [" ".join(f"w{int(i)}" for i in torch.randint(0, 200, (12,), generator=generator)) for _ in range(6)]
    data = datasets.Dataset.from_dict({"text": texts})
    callback = GemmaDoctorCallback()
    counter = StepCounter()
    config = trl.SFTConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        max_steps=2,
        per_device_train_batch_size=2,
        report_to="none",
        max_length=16,
    )
    assert config.bf16 is True  # TRL's own default, the value the callback judges
    run = trl.SFTTrainer(
        model=tiny_text_model(torch.float32),
        args=config,
        train_dataset=data,
        processing_class=tiny_tokenizer(),
        callbacks=[callback, counter],
    )
    run.train()
    assert counter.steps == 2 and [f.rule for f in callback.findings if f.severity == "error"] == []
    facts = {
        f.name: f.value
        for f in __import__("gemma_doctor.preflight", fromlist=["_facts"])._facts(
            run.model, run.args, run.processing_class, "SFTTrainer"
        )
    }
    assert facts["bf16"] is True and facts["trainer_call"] == "SFTTrainer"


def test_probe_reports_the_first_layer_that_overflows_in_fp16():
    """The probe runs one batch forward: here a tiny fp16 model whose embeddings are scaled so the first
    decoder layer's output passes 65504 (on real Gemma 3 weights the trained activations do that)."""
    from gemma_doctor.preflight import probe_overflow

    model = tiny_text_model(torch.float16)
    with torch.no_grad():
        model.model.embed_tokens.weight.fill_(1.0e4)  # x sqrt(hidden) = 8e4, past fp16's 65504
    args = transformers.TrainingArguments(output_dir="unused", use_cpu=True, fp16=True, report_to="none")
    batch = {"input_ids": torch.randint(3, 250, (1, 16))}
    findings = probe_overflow(model, args, [batch])
    assert [f.rule for f in findings] == ["GD101"] and "decoder layer 0" in findings[0].message
    assert probe_overflow(tiny_text_model(torch.float32), args, [batch]) == []
