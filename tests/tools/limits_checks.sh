#!/usr/bin/env bash
# CTest cases of the tools' failures to do their work (label "tool"): exit status 3
# with the system's reason (docs/validating.md, "Exit status").
#   limits_checks.sh CASE WORKDIR TRAIN VERIFY STEP VECTORS
# CASE: stdout_full | memory_limit
set -u
case_name=$1 work=$2 train=$3 verify=$4 step=$5 vectors=$6
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
tiny=(--d-model 16 --heads 2 --d-ff 32 --layers 1 --max-len 48 --task syn-rte --items 16 --rank-dial 4
      --train-size 128 --dev-size 32 --batch-size 8 --plots none --pretrained none --method lora --steps 4)

case "$case_name" in
  stdout_full)
    [[ -w /dev/full ]] || { echo "SKIP: no /dev/full"; exit 77; }
    "$vectors" suite >/dev/null || fail "scalora-vectors"
    c=suite/worked_example.safetensors
    [[ -f $c ]] || c=$(ls suite/*.safetensors | head -1)
    for cmd in "$verify --json $c" "$verify $c" "$step --json" "$step --case $c --json" "$train --help" \
               "$vectors again"; do
      $cmd >/dev/full 2>err.txt; rc=$?
      [[ $rc -eq 3 ]] || fail "'$cmd' > /dev/full exited $rc, expected 3"
      grep -q "cannot write the standard output: No space left on device" err.txt || fail "'$cmd': $(cat err.txt)"
    done
    "$verify" --json "$c" >ok.json || fail "the same verification to a file failed"
    [[ -s ok.json ]] || fail "empty report" ;;
  memory_limit)
    # Under RLIMIT_AS limits from below what loading needs (127) upwards, every run ends
    # 0 or 3 (never a signal), and some limit gives 3 (out of memory) after loading.
    command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
    python3 "$here/make_large_case.py" 300 200 4 large.safetensors || fail "case generation"
    for tool in train verify; do
      saw3=0 saw_ok=0
      for kb in $(seq 16000 500 40000); do
        if [[ $tool == train ]]; then
          (ulimit -v $kb; exec "$train" "${tiny[@]}" --out "o$kb") >/dev/null 2>err.txt; rc=$?
          ok=0
        else
          (ulimit -v $kb; OMP_NUM_THREADS=1 exec "$verify" large.safetensors) >/dev/null 2>err.txt; rc=$?
          ok=1  # random outputs: the check fails
        fi
        case $rc in
          127) [[ $saw3 -eq 0 && $saw_ok -eq 0 ]] || fail "$tool: could not load at $kb kB after running below" ;;
          3) saw3=1; grep -q "out of memory" err.txt || fail "$tool at $kb kB: exit 3 without 'out of memory': $(cat err.txt)" ;;
          "$ok") saw_ok=1 ;;
          *) fail "$tool at $kb kB exited $rc: $(tail -c 300 err.txt)" ;;
        esac
        [[ $saw_ok -eq 1 ]] && break
      done
      [[ $saw3 -eq 1 && $saw_ok -eq 1 ]] || fail "$tool: no limit gave out of memory ($saw3) and then success ($saw_ok)"
    done ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS $case_name"
