#!/usr/bin/env bash
# The verify set of docs/verify.md ("verify tells the whole truth"), run on the lent GPU machine (device tool).
#   bench/gpu_verify.sh image    the image's stack, then `--stack pinned` built offline from the wheels in .whl/
#   bench/gpu_verify.sh qlora    the QLoRA example with bitsandbytes (wheel carried in .whlb/)
#   bench/gpu_verify.sh unsloth  the Unsloth example through FastModel, bf16 and fp16 (.uns/site.tar.xz: unsloth,
#                                unsloth_zoo and their missing dependencies, trimmed to fit one call: no Unsloth
#                                Studio web UI, bitsandbytes' CUDA 13.0 library only)
# Every report goes into one JSON file under $OUT (the tool brings back 8 files at most).
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ROOT=$(pwd)
mkdir -p /tmp/reports
run() {  # name, project, extra verify options...
  local name=$1 project=$2
  shift 2
  local started=$SECONDS
  PYTHONPATH=${SITE:-/tmp/site} python3 -m gemma_doctor verify "$project" --format json "$@" > "/tmp/reports/$name.json" 2> "/tmp/reports/$name.err"
  local code=$?
  echo "$name rc=$code wall=$((SECONDS - started))s $(python3 -c "
import json; d = json.load(open('/tmp/reports/$name.json'))
print(d['status'], d.get('run_status'), d['versions'].get('transformers'), [(f['rule'], f['state']) for f in d['findings']],
      (d.get('message') or '')[:100])" 2>&1 | tail -1)"
}
collect() {
  python3 - "$1" <<'PY'
import glob, json, os, sys
reports = {}
for path in sorted(glob.glob("/tmp/reports/*.json")):
    name = os.path.basename(path)[:-5]
    try:
        reports[name] = json.load(open(path))
    except ValueError:
        reports[name] = {"unreadable": open(path).read()[-2000:]}
    reports[name]["stderr_tail"] = open(path[:-5] + ".err").read()[-1500:]
json.dump(reports, open(os.path.join(os.environ["OUT"], sys.argv[1]), "w"), indent=1)
PY
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, accelerate, peft; print(torch.__version__, transformers.__version__, accelerate.__version__, peft.__version__)"
for ex in gemma3-clean gemma3-broken; do rm -rf "/tmp/$ex" && cp -r "examples/$ex" "/tmp/$ex" && rm "/tmp/$ex/requirements.txt"; done
rm -rf /tmp/vh-fixed && cp -r examples/verify-hybridcache /tmp/vh-fixed
python3 -c "import json;p='/tmp/vh-fixed/model/config.json';c=json.load(open(p));c['text_config']['use_cache']=False;json.dump(c,open(p,'w'))"
case "$1" in
image)
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/trl-*.whl .whl/datasets-*.whl .whl/dill-*.whl .whl/multiprocess-*.whl
  run image-clean /tmp/gemma3-clean
  run image-hybridcache examples/verify-hybridcache
  run image-broken-fp16 /tmp/gemma3-broken
  run image-qlora-no-bnb examples/verify-qlora
  run image-sft examples/verify-sft
  run image-dpo examples/verify-dpo
  run image-grpo examples/verify-grpo
  ;;&
image|pinned)
  # Offline there: pip's configuration (here its environment variables) names the carried wheels; verify
  # passes the same index to uv, which the image has on PATH.
  export GEMMA_DOCTOR_CACHE=/tmp/gd-cache PIP_NO_INDEX=1 PIP_FIND_LINKS="$ROOT/.whl"
  run pinned-hybridcache examples/verify-hybridcache --stack pinned
  run pinned-hybridcache-again examples/verify-hybridcache --stack pinned
  run pinned-hybridcache-fixed /tmp/vh-fixed --stack pinned
  collect "verify-$1.json" ;;
qlora)
  python3 -m pip install -q --no-index --no-deps --upgrade --target /tmp/site .whlb/*.whl
  PYTHONPATH=/tmp/site python3 -c "import bitsandbytes, trl; print('bitsandbytes', bitsandbytes.__version__, 'trl', trl.__version__)"
  run qlora-bnb examples/verify-qlora
  sed 's/torch.float16/torch.bfloat16/; s/fp16=True/bf16=True/' examples/verify-qlora/train.py > /tmp/qlora-bf16.py
  rm -rf /tmp/qlora-bf16 && cp -r examples/verify-qlora /tmp/qlora-bf16 && mv /tmp/qlora-bf16.py /tmp/qlora-bf16/train.py
  run qlora-bnb-bf16 /tmp/qlora-bf16
  collect verify-qlora.json ;;
unsloth)
  mkdir -p /tmp/usite && tar -xJf .uns/site.tar.xz -C /tmp/usite
  export SITE=/tmp/usite
  run unsloth-bf16 examples/verify-unsloth
  rm -rf /tmp/unsloth-fp16 && cp -r examples/verify-unsloth /tmp/unsloth-fp16
  sed -i 's/bf16=True/fp16=True/' /tmp/unsloth-fp16/train.py
  run unsloth-fp16 /tmp/unsloth-fp16 --gpu H100
  ls -d unsloth_compiled_cache 2>/dev/null && echo "LEFT unsloth_compiled_cache in the working directory"
  collect verify-unsloth.json ;;
esac
