#!/usr/bin/env bash
# CTest cases of scalora-train (label "train"); each a few seconds on a tiny encoder.
#   cli_checks.sh CASE TRAIN_BIN WORKDIR [GLUE_GEN_BIN FIXTURES_DIR]
# CASE: bad_arguments | shadow_pass | planted_fault | resume_scalora | resume_lora | glue_dirs | pretrain_cache
#       | grid_report
set -u
case_name=$1 train=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# d 16, one block, a small syn-rte task; --pretrained none keeps each case fast.
tiny=(--d-model 16 --heads 2 --d-ff 32 --layers 1 --max-len 48 --task syn-rte --items 16 --rank-dial 4
      --train-size 128 --dev-size 32 --batch-size 8 --plots none)
fail() { echo "FAIL: $*"; exit 1; }
# The SHA-256 of each tensor a checkpoint records (its metadata also names its run, so whole files differ).
tensor_sums() { grep -ao '"sha256\.[^_"][^"]*":"[0-9a-f]*"' "$1" | sort; }
tiny_run() { "$train" "${tiny[@]}" --pretrained none "$@"; }

case "$case_name" in
  bad_arguments)
    for args in "--method dora" "--task syn-qqp" "--steps 0" "--rank 0" "--optimizer adam" "--shadow-every -1" \
                "--pretrained /nonexistent.safetensors" "--resume /nonexistent.safetensors" "--bogus" "--steps" \
                "--inject-fault layer0" "--plots pdf"; do
      "$train" $args --out out >/dev/null 2>err.txt; rc=$?
      [[ $rc -eq 2 ]] || fail "'$args' exited $rc, expected 2"
      grep -q "scalora-train:" err.txt || fail "'$args': no message"
    done
    # A directory that is not a GLUE task, and a file that is not a checkpoint.
    mkdir -p not-glue && echo x > not-glue/train.tsv
    "$train" "${tiny[@]}" --task not-glue --pretrained none --steps 1 --out out >/dev/null 2>&1; rc=$?
    [[ $rc -eq 2 ]] || fail "unreadable task directory exited $rc"
    echo "junk" > junk.safetensors
    "$train" --resume junk.safetensors --out out >/dev/null 2>&1; rc=$?
    [[ $rc -eq 2 ]] || fail "malformed checkpoint exited $rc" ;;
  shadow_pass)
    # ScaLoRA (AdamW moments) and ScaLoRA-I (SGD momentum buffers) on live states.
    "$train" "${tiny[@]}" --pretrained none --method scalora --steps 30 --shadow-every 10 --out a 2>err.txt \
      || { cat err.txt; fail "scalora run failed"; }
    grep -q '"shadow_checks": 3' a/summary.json || fail "expected 3 shadow checks: $(grep shadow_checks a/summary.json)"
    "$train" "${tiny[@]}" --pretrained none --method scalora-i --interval 3 --optimizer sgd --momentum 0.9 \
      --steps 30 --shadow-every 5 --out b 2>err.txt || { cat err.txt; fail "scalora-i sgd run failed"; }
    grep -q '"shadow_checks": 6' b/summary.json || fail "expected 6 shadow checks: $(grep shadow_checks b/summary.json)"
    awk -F, 'NR>1 && $3==1 && ($5=="" || $6=="" || $7=="") {bad=1} END {exit bad}' a/layers.csv \
      || fail "rescaled rows without bound decreases" ;;
  planted_fault)
    "$train" "${tiny[@]}" --pretrained none --method scalora --steps 30 --shadow-every 1 \
      --inject-fault layer0.attn.v@12 --out a >out.txt 2>err.txt; rc=$?
    [[ $rc -eq 1 ]] || { cat err.txt; fail "exit $rc, expected 1"; }
    grep -q "layer0.attn.v, step 12" err.txt || { cat err.txt; fail "report does not name layer and step"; }
    grep -q "FAIL layer0.attn.v: out.A A' = A diag(alpha)" a/shadow_failure.txt || fail "no failing check in the report"
    [[ $(tail -n 1 a/steps.csv | cut -d, -f1) == 11 ]] || fail "the run did not stop at step 12" ;;
  resume_scalora|resume_lora)
    method=${case_name#resume_}
    common=("${tiny[@]}" --pretrained none --method "$method" --steps 40 --eval-every 10 --shadow-every 10)
    "$train" "${common[@]}" --out straight 2>/dev/null || fail "uninterrupted run failed"
    "$train" "${common[@]}" --checkpoint-every 20 --stop-after 20 --out resumed 2>/dev/null || fail "first half failed"
    [[ -f resumed/checkpoints/step-20.safetensors && ! -f resumed/checkpoints/final.safetensors ]] \
      || fail "no step-20 checkpoint"
    "$train" --resume resumed/checkpoints/step-20.safetensors --plots none 2>/dev/null || fail "resume failed"
    for f in steps.csv eval.csv layers.csv; do
      cmp "straight/$f" "resumed/$f" || fail "$f differs after resume"
    done
    [[ -n "$(tensor_sums straight/checkpoints/final.safetensors)" ]] || fail "no tensor checksums in the checkpoint"
    [[ "$(tensor_sums straight/checkpoints/final.safetensors)" == "$(tensor_sums resumed/checkpoints/final.safetensors)" ]] \
      || fail "final checkpoint tensors differ after resume"
    # The summary counts the whole run's shadow checks, the resumed half's included.
    [[ "$(grep shadow_checks straight/summary.json)" == "$(grep shadow_checks resumed/summary.json)" ]] \
      || fail "shadow_checks: $(grep shadow_checks straight/summary.json) straight, $(grep shadow_checks resumed/summary.json) resumed" ;;
  glue_dirs)
    gen=$4 fixtures=$5
    "$gen" --task syn-stsb --rank-dial 4 --items 16 --train 64 --dev 16 --test 16 --out gen >/dev/null || fail "glue-gen"
    "$train" "${tiny[@]}" --task gen/syn-stsb --pretrained none --method lora --steps 4 --out a 2>err.txt \
      || { cat err.txt; fail "generated GLUE directory"; }
    grep -q '"primary_metric": "pearson"' a/summary.json || fail "syn-stsb directory not read as STS-B"
    mkdir -p real/RTE && cp "$fixtures/RTE/train.tsv" real/RTE/train.tsv && cp "$fixtures/RTE/train.tsv" real/RTE/dev.tsv
    "$train" "${tiny[@]}" --task real/RTE --pretrained none --method scalora --steps 2 --out b 2>err.txt \
      || { cat err.txt; fail "real-layout RTE directory"; } ;;
  pretrain_cache)
    pre=(--pretrain-steps 6 --pretrain-documents 200 --pretrained auto --cache cache --method lora --steps 2)
    "$train" "${tiny[@]}" "${pre[@]}" --out a 2>err1.txt || { cat err1.txt; fail "first run"; }
    grep -q "pre-training" err1.txt || fail "did not pre-train"
    "$train" "${tiny[@]}" "${pre[@]}" --out b 2>err2.txt || { cat err2.txt; fail "second run"; }
    grep -q "(cached)" err2.txt || fail "did not reuse the cache"
    cmp a/steps.csv b/steps.csv || fail "cached pre-training gave another run" ;;
  grid_report)
    # A grid writes <out>/<task>/<method>-r<rank>/seed-<s>/ and a report; --report DIR rebuilds it.
    "$train" "${tiny[@]}" --pretrained none --method lora,scalora --seeds 1,2 --steps 6 --jobs 2 --out g 2>err.txt \
      || { cat err.txt; fail "grid failed"; }
    for m in lora-r4 scalora-r4; do for s in 1 2; do
      [[ -f g/syn-rte/$m/seed-$s/summary.json ]] || fail "no g/syn-rte/$m/seed-$s/summary.json"
    done; done
    mv g/results.md grid.md && rm g/results.json
    "$train" --report g --plots none 2>err.txt || { cat err.txt; fail "--report failed"; }
    for row in "| lora-r4 |" "| scalora-r4 |" "Training loss, mean of the last 100 steps" "| scalora-r4 | adamw | 0.003 | 2 | 6 |"; do
      grep -qF "$row" g/results.md || fail "--report: no '$row'"
    done
    # the final-metric table of the report equals the grid's own
    [[ "$(sed -n '/^| method/,/^$/p' grid.md | sort)" == "$(sed -n '/^| method/,/^$/p' g/results.md | sort)" ]] \
      || fail "--report tables differ from the grid's"
    mkdir -p empty && "$train" --report empty >/dev/null 2>&1; rc=$?
    [[ $rc -eq 2 ]] || fail "--report of a directory without runs exited $rc, expected 2" ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS $case_name"
