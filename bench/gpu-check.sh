#!/usr/bin/env bash
# The GPU check of issue 8: prints every GPU bench line (JSON lines of bench/webgpu.ts: matMul rate,
# quickstart with STDP at B = 1, 20, 256, 1024, e-prop s/iteration at B = 32 and 256, evidence
# accumulation at B = 64 to ≤ 7 % test error) on the webgpu backend, after the adapter report of
# `cinder info`; last, the `verify` lines (bench/webgpu-verify.ts: the fused quickstart step against
# the op path, the fused e-prop kernels against the JavaScript kernel, on the same GPU). Every line also goes to "$OUT/bench.jsonl" (OUT defaults to ./gpu-check-out).
#
#   bash bench/gpu-check.sh pack   on a machine with Node and internet (here): builds dist/, bundles
#                                  bench/webgpu.ts into dist/bench-webgpu.mjs and packs .gpu/ with
#                                  the shared pack.sh (Node, dist, production node_modules, Vulkan
#                                  loader .debs); works in a git worktree too.
#   bash bench/gpu-check.sh        runs the check. On the lent GPU machine (no node on PATH, .gpu/
#                                  carried: device tool `carry: [".gpu"]`) it first unpacks .gpu/ and
#                                  points Vulkan at NVIDIA's ICD; elsewhere it runs from source
#                                  (tsx), on SwiftShader when no NVIDIA ICD is found.
#                                  GPU_CHECK_UNPACK=1 takes the packed route even where node exists
#                                  (a rehearsal of the GPU machine's run).
#
# Each bench group runs in its own process under a timeout, so one slow group cannot cost the rest;
# a group that times out or fails prints {"case": "gpu-check", "group": …, "error": …}. The group
# limits add up to 630 s, a little over one device call of 600 s, only if every group runs to its
# limit (usually the whole check takes far less); the lines already printed are in $OUT either way,
# and `verify`, the one that does not time anything, comes last. Environment:
# GPU_CHECK_GROUPS (default matmul,quickstart,eprop,evidence,verify), GPU_CHECK_TIMEOUT_<GROUP> (seconds),
# and every WEBGPU_BENCH_* variable of bench/webgpu.ts (e.g. WEBGPU_BENCH_EPROP_STEPS=90 and small
# batches for a software adapter).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${1:-run}" = pack ]; then
  set -e
  shared=""
  for d in "${CINDER_SHARED_GPU:-}" ../shared/gpu ../../shared/gpu /work/shared/gpu; do
    if [ -n "$d" ] && [ -f "$d/pack.sh" ]; then shared=$(cd "$d" && pwd); break; fi
  done
  [ -n "$shared" ] || { echo "pack.sh of the shared gpu folder not found (set CINDER_SHARED_GPU)" >&2; exit 2; }
  npm run build
  npx esbuild bench/webgpu.ts --bundle --platform=node --format=esm --log-level=warning \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
    --outfile=dist/bench-webgpu.mjs
  # pack.sh wants package.json, package-lock.json and dist/ in a folder whose .git/info/exclude it
  # may append to; a worktree's .git is a file, so it runs in a scratch folder of its own.
  stage=$(mktemp -d)
  cp package.json package-lock.json "$stage/"
  cp -r dist "$stage/dist"
  mkdir -p "$stage/.git/info"
  (cd "$stage" && bash "$shared/pack.sh" >/dev/null)
  rm -rf .gpu && mv "$stage/.gpu" .gpu && rm -rf "$stage"
  exclude=$(git rev-parse --git-path info/exclude 2>/dev/null || true)
  if [ -n "$exclude" ]; then mkdir -p "$(dirname "$exclude")"; grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"; fi
  du -sh .gpu
  echo 'device tool: command "bash bench/gpu-check.sh", carry [".gpu"], timeout_s 600'
  exit 0
fi

OUT=${OUT:-$root/gpu-check-out}
mkdir -p "$OUT"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
nvidia_icd=""
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$f" ] && { nvidia_icd=$f; break; }
done

had_node=0
command -v node >/dev/null 2>&1 && had_node=1
if [ "${GPU_CHECK_UNPACK:-}" = 1 ] || [ "$had_node" = 0 ]; then
  # The lent GPU machine: Node, dist/ and node_modules come packed in .gpu/ (see `pack` above).
  [ -f .gpu/pack.tar.xz ] || { echo '{"case":"gpu-check","error":"no node and no .gpu/pack.tar.xz: run bash bench/gpu-check.sh pack, then carry .gpu"}'; exit 2; }
  g=/tmp/cinder-gpu
  rm -rf "$g" && mkdir -p "$g" && tar xJf .gpu/pack.tar.xz -C "$g"
  # The Vulkan loader: installed into / as root on the lent machine (no node of its own, as
  # exercised there), else into a folder on LD_LIBRARY_PATH (GPU_CHECK_GL_PREFIX names one). A
  # rehearsal (GPU_CHECK_UNPACK=1 where node exists) never writes into /: a loader left there
  # without a driver makes Dawn print "Found no drivers!" in every later process.
  if [ -z "${GPU_CHECK_GL_PREFIX:-}" ] && [ "$(id -u)" = 0 ] && [ "$had_node" = 0 ]; then
    for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    gl=${GPU_CHECK_GL_PREFIX:-$g/gl}
    for f in .gpu/gl/*.deb; do dpkg -x "$f" "$gl"; done
    export LD_LIBRARY_PATH="$gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  export PATH="$g:$PATH"
  app="$g/app"
  [ -f "$app/dist/bench-webgpu.mjs" ] || { echo '{"case":"gpu-check","error":"dist/bench-webgpu.mjs missing from the pack: pack with bash bench/gpu-check.sh pack"}'; exit 2; }
  info=(node "$app/dist/bin/cinder.js" info --backend webgpu)
  bench=(node "$app/dist/bench-webgpu.mjs" --backend webgpu)
else
  app="$root"
  info=(node --import tsx bin/cinder.ts info --backend webgpu)
  bench=(node --import tsx bench/webgpu.ts --backend webgpu)
  if [ -z "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
    export VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json
    [ -f /usr/lib/chromium/libvulkan.so.1 ] && export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
if [ -n "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES=$nvidia_icd; fi

cd "$app"
echo "# gpu-check $(date -u +%FT%TZ) VK_DRIVER_FILES=${VK_DRIVER_FILES:-} node $(node --version)"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/# /'
timeout 120 "${info[@]}" 2>&1 | sed 's/^/# /'

default_timeout() {
  case "$1" in
    matmul) echo 60 ;;
    quickstart) echo 120 ;;
    eprop) echo 120 ;;
    verify) echo 90 ;;
    evidence) echo $(( ${WEBGPU_BENCH_EVIDENCE_SECONDS:-180} + 60 )) ;;
    *) echo 120 ;;
  esac
}
export WEBGPU_BENCH_EVIDENCE_SECONDS=${WEBGPU_BENCH_EVIDENCE_SECONDS:-180}
status=0
IFS=, read -r -a groups <<< "${GPU_CHECK_GROUPS:-matmul,quickstart,eprop,evidence,verify}"
for group in "${groups[@]}"; do
  var="GPU_CHECK_TIMEOUT_$(echo "$group" | tr '[:lower:]' '[:upper:]')"
  limit=${!var:-$(default_timeout "$group")}
  log="$OUT/$group.log"
  WEBGPU_BENCH_CASES=$group timeout "$limit" "${bench[@]}" > "$OUT/$group.jsonl" 2> "$log"
  rc=$?
  grep '^{' "$OUT/$group.jsonl" | tee -a "$OUT/bench.jsonl"
  if [ "$rc" -ne 0 ]; then
    status=1
    why=$([ "$rc" -eq 124 ] && echo "timeout after ${limit} s" || echo "exit $rc: $(tail -c 300 "$log" | tr '\n"\\' "  /")")
    echo "{\"case\":\"gpu-check\",\"group\":\"$group\",\"error\":\"$why\"}" | tee -a "$OUT/bench.jsonl"
  fi
done
exit $status
