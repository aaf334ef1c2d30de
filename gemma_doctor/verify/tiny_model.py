"""A scaled-down model of the project's own class and family, from its config.json.

Kept from the real config: the layer-type pattern (one sliding and one full
attention layer at least), head_dim, query_pre_attn_scalar, soft-caps, rope,
use_cache at both levels. Shrunk: hidden size, layers, heads, vocabulary, the
sliding window (below the synthetic sequence length, so it is exercised) and the
vision tower. Random weights; nothing is downloaded.
"""

from __future__ import annotations

VOCAB = 256
SEQUENCE = 16
_DROP = {
    "architectures",
    "transformers_version",
    "_name_or_path",
    "quantization_config",
    "torch_dtype",
    "dtype",
    "auto_map",
    "_attn_implementation_autoset",
    "_commit_hash",
}
_TEXT_SIZES = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    max_position_embeddings=256,
    sliding_window=8,
    sliding_window_pattern=2,
    _sliding_window_pattern=2,
    layer_types=["sliding_attention", "full_attention"],
    pad_token_id=0,
    bos_token_id=2,
    eos_token_id=1,
)
_VISION = dict(
    model_type="siglip_vision_model",
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=1,
    num_attention_heads=2,
    image_size=32,
    patch_size=8,
)


# Gemma 4: two sliding and two full-attention layers, so that the last two can share the first two's
# K/V (each shared layer needs a source layer of its type), and a full-attention head dim twice the
# sliding one, as global_head_dim is (512 against 256).
_GEMMA4_TEXT = dict(
    _TEXT_SIZES,
    num_hidden_layers=4,
    layer_types=["sliding_attention", "full_attention"] * 2,
    head_dim=32,
    global_head_dim=64,
    hidden_size_per_layer_input=8,
    vocab_size_per_layer_input=VOCAB,
)
_GEMMA4_VISION = dict(
    model_type="gemma4_vision",
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=1,
    num_attention_heads=2,
    num_key_value_heads=2,
    head_dim=16,
)
_GEMMA4_AUDIO = dict(
    model_type="gemma4_audio",
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    output_proj_dims=32,
    subsampling_conv_channels=[8, 8],
)
# Gemma 4's special tokens, moved inside the tiny vocabulary; the synthetic rows stay below them.
_GEMMA4_TOKENS = dict(
    image_token_id=VOCAB - 1,
    boi_token_id=VOCAB - 2,
    eoi_token_id=VOCAB - 3,
    audio_token_id=VOCAB - 4,
    boa_token_id=VOCAB - 5,
    eoa_token_index=VOCAB - 6,
    video_token_id=VOCAB - 7,
)
_FIRST_SPECIAL = VOCAB - 8


def gemma4_config_dict(plan) -> dict:
    """The project's Gemma 4 layout at toy size: shared K/V layers, experts and towers as its checkpoint
    has them (verify/plan.py's layout, from its config.json or its id)."""
    source = dict(plan.config.get("text_config") or plan.config)
    text = {k: v for k, v in source.items() if k not in _DROP and k not in ("per_layer_config", "rope_parameters")}
    text.update(_GEMMA4_TEXT, model_type="gemma4_text")
    text["num_kv_shared_layers"] = 2 if plan.layout.get("kv_shared") else 0
    if plan.layout.get("moe"):
        text.update(enable_moe_block=True, num_experts=4, top_k_experts=2, moe_intermediate_size=32)
    else:
        text.update(enable_moe_block=False, num_experts=None, top_k_experts=None, moe_intermediate_size=None)
    if plan.model_class == "Gemma4ForCausalLM":
        return text
    towers = plan.layout.get("towers") or []
    return dict(
        model_type="gemma4",
        text_config=text,
        vision_config=dict(_GEMMA4_VISION) if "vision" in towers else None,
        audio_config=dict(_GEMMA4_AUDIO) if "audio" in towers else None,
        **_GEMMA4_TOKENS,
    )


def text_model(torch, transformers, dtype, seed: int = 0):
    """A tiny Gemma 3 text model with no project config behind it (the preflight tests and
    benchmark): the same shrunk sizes, with head_dim 32 where a real config would bring its own."""
    config = transformers.Gemma3TextConfig(**_TEXT_SIZES, head_dim=32)
    torch.manual_seed(seed)
    return transformers.Gemma3ForCausalLM(config).to(dtype)


def shrink_text(config: dict) -> dict:
    text = {k: v for k, v in config.items() if k not in _DROP}
    text.update(_TEXT_SIZES)
    text.setdefault("head_dim", 256)
    text.pop("cache_implementation", None) if text.get("cache_implementation") is None else None
    return text


def tiny_config_dict(plan) -> dict:
    config = plan.config
    if plan.family == "gemma4":
        return gemma4_config_dict(plan)
    if plan.family == "gemma3":
        top = {k: v for k, v in config.items() if k not in _DROP and k not in ("text_config", "vision_config")}
        text = shrink_text(dict(config.get("text_config") or {}, model_type="gemma3_text"))
        top.update(
            model_type="gemma3",
            text_config=text,
            vision_config=dict(_VISION),
            mm_tokens_per_image=4,
            image_token_index=VOCAB - 1,
            boi_token_index=VOCAB - 3,
            eoi_token_index=VOCAB - 2,
            eos_token_id=1,
            pad_token_id=0,
            bos_token_id=2,
        )
        return top
    return dict(shrink_text(config), model_type=plan.family)


def build(plan, torch, transformers):
    """(model, config) in the project's weights dtype."""
    data = tiny_config_dict(plan)
    model_type = data.pop("model_type")
    if model_type == "gemma4":  # its sub-configs are built from dicts, a None one means no tower
        config = transformers.Gemma4Config(**data)
    else:
        config = transformers.AutoConfig.for_model(model_type, **data)
    config._attn_implementation = plan.attn_implementation
    for sub in ("text_config", "vision_config"):
        if getattr(config, sub, None) is not None:
            getattr(config, sub)._attn_implementation = plan.attn_implementation
    if plan.family == "gemma3":
        config.text_config.use_cache = (
            plan.use_cache if plan.use_cache_level == "text_config" else config.text_config.use_cache
        )
        if plan.top_level_use_cache is not None:
            config.use_cache = plan.top_level_use_cache
    else:
        config.use_cache = plan.use_cache
    model_class = getattr(transformers, plan.model_class)
    torch.manual_seed(0)
    model = model_class(config)
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(plan.weights_dtype, torch.float32)
    return model.to(dtype), config


def dataset(plan, torch, rows: int):
    generator = torch.Generator().manual_seed(1)
    items = []
    for _ in range(rows):
        top = _FIRST_SPECIAL if plan.family == "gemma4" else VOCAB - 4
        ids = torch.randint(3, top, (SEQUENCE,), generator=generator)
        item = {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids)}
        if plan.family == "gemma3" and plan.token_type_ids:
            item["token_type_ids"] = torch.zeros_like(ids)
        items.append(item)
    return items


def tokenizer(transformers):
    """A word-level tokenizer over the tiny vocabulary ("t3" .. "t255"), built in memory (nothing is
    downloaded): TRL's trainers need one for padding and end-of-sequence ids, and DPO and GRPO for text."""
    import tokenizers

    special = {"<pad>": 0, "<eos>": 1, "<bos>": 2}
    vocab = dict(special, **{f"t{i}": i for i in range(len(special), VOCAB)})
    model = tokenizers.models.WordLevel(vocab, unk_token="<pad>")
    backend = tokenizers.Tokenizer(model)
    backend.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()  # DPO and GRPO rows are text
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>"
    )
