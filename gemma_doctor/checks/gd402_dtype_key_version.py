"""GD402: config.json's `dtype` key on a transformers that reads only `torch_dtype`."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix, renamed
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD402")
def dtype_key_version(setup: Setup):
    version = setup.exact_version("transformers")
    if version is None or setup.holds("transformers", "reads_dtype_key") is not False:
        return
    for name in ("config_dtype", "text_config_dtype"):
        for fact in setup.all(name):
            if fact.raw_key != "dtype":
                continue
            siblings = [f for f in setup.all(name) if f.raw_key == "torch_dtype"]
            if siblings:
                continue
            rename = renamed(fact, "torch_dtype")
            if rename is None:
                continue
            since = versioned("transformers", "reads_dtype_key").since
            yield Diagnostic(
                fact.location,
                f'config.json says "dtype": {fact.value!r}, a key transformers reads only '
                f"from {since}; transformers {version} leaves config.torch_dtype None. from_pretrained("
                "torch_dtype='auto') still loads the weights' own dtype and a plain from_pretrained loads "
                "float32 either way (docs/evidence), so only tools that read config.torch_dtype lose it.",
                None,
                Fix.of(f"Rename dtype to torch_dtype ({since}+ still reads torch_dtype)", "safe", rename),
            )
