#!/usr/bin/env bash
# CTest cases of scalora-train (label "train"); each a few seconds on a tiny encoder.
#   cli_checks.sh CASE TRAIN_BIN WORKDIR [GLUE_GEN_BIN FIXTURES_DIR]
# CASE: bad_arguments | shadow_pass | planted_fault | resume_scalora | resume_lora | glue_dirs | pretrain_cache
#       | grid_report | one_writer | overwrite | resume_rules | kill_resume | corrupt_checkpoint | short_write
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
                "--inject-fault layer0" "--plots pdf" "--seeds 1,2,1" "--method lora,scalora,lora" \
                "--task syn-rte,syn-rte"; do
      "$train" $args --out out >/dev/null 2>err.txt; rc=$?
      [[ $rc -eq 2 ]] || fail "'$args' exited $rc, expected 2"
      grep -q "scalora-train:" err.txt || fail "'$args': no message"
      [[ $(wc -l < err.txt) -le 2 ]] || fail "'$args': $(wc -l < err.txt) lines of error"
    done
    "$train" --lr 0 >/dev/null 2>err.txt
    grep -q "expected a number in \[1e-09, 9.99\]" err.txt || fail "--lr 0: $(cat err.txt)"
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
    cmp a/steps.csv b/steps.csv || fail "cached pre-training gave another run"
    # Two processes on one empty cache: one pre-trains, the other waits for it and reuses it.
    pre2=(--pretrain-steps 6 --pretrain-documents 200 --pretrained auto --cache cache2 --method lora --steps 2)
    "$train" "${tiny[@]}" "${pre2[@]}" --out c 2>err3.txt & first=$!
    "$train" "${tiny[@]}" "${pre2[@]}" --out d 2>err4.txt || { cat err4.txt; fail "second concurrent run"; }
    wait $first || { cat err3.txt; fail "first concurrent run"; }
    [[ $(cat err3.txt err4.txt | grep -c "pre-training (masked LM") -eq 1 ]] || fail "pre-trained twice or never"
    cmp c/steps.csv a/steps.csv && cmp d/steps.csv a/steps.csv || fail "concurrent cache users differ" ;;
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
  one_writer)
    # A second writer of a locked --out fails at once (exit 3) naming the holder, --overwrite included.
    "$train" "${tiny[@]}" --pretrained none --steps 100000000 --out a 2>/dev/null & holder=$!
    trap 'kill -9 $holder 2>/dev/null' EXIT
    for _ in $(seq 100); do [[ -f a/run.json ]] && break; sleep 0.05; done
    [[ -f a/run.json ]] || fail "the first run wrote no run.json"
    for extra in "" "--overwrite"; do
      start=$(date +%s%N)
      tiny_run --steps 2 $extra --out a >/dev/null 2>err.txt; rc=$?
      [[ $rc -eq 3 ]] || fail "second writer ($extra) exited $rc, expected 3"
      (( ($(date +%s%N) - start) / 1000000 < 3000 )) || fail "the second writer waited"
      grep -q "in use by pid $holder host .* started 20" err.txt || { cat err.txt; fail "holder not named"; }
    done
    kill $holder; wait $holder 2>/dev/null
    # The kernel released the dead holder's lock: the directory is merely not empty now.
    tiny_run --steps 2 --out a >/dev/null 2>err.txt; rc=$?
    [[ $rc -eq 2 ]] && grep -q "not empty (.*run.json" err.txt || fail "after the holder died: exit $rc, $(cat err.txt)" ;;
  overwrite)
    tiny_run --method lora --steps 6 --checkpoint-every 2 --out a 2>/dev/null || fail "first run"
    cp a/summary.json old-summary.json
    tiny_run --method lora --steps 3 --out a >/dev/null 2>err.txt; rc=$?
    [[ $rc -eq 2 ]] || fail "a non-empty --out exited $rc, expected 2"
    grep -q "is not empty (checkpoints, eval.csv" err.txt || fail "refusal does not name the contents: $(cat err.txt)"
    [[ $(wc -l < err.txt) -le 2 ]] || fail "an argument error printed $(wc -l < err.txt) lines"
    cmp a/summary.json old-summary.json || fail "the refused run touched the old summary"
    tiny_run --method lora --steps 3 --overwrite --out a 2>/dev/null || fail "--overwrite run"
    aside=$(ls -d a.old-* 2>/dev/null | head -1)
    [[ -n "$aside" ]] && cmp "$aside/summary.json" old-summary.json && [[ -f "$aside/checkpoints/step-6.safetensors" ]] \
      || fail "old contents not moved aside whole"
    [[ ! -e a/checkpoints/step-6.safetensors && $(grep -c . a/steps.csv) -eq 4 ]] || fail "stale files in the new run"
    grep -q '"steps_done": 3' a/summary.json || fail "summary is not the new run's"
    grep -q '"run_id"' a/run.json && grep -q '"version"' a/run.json && grep -q '"started"' a/run.json \
      && grep -q '"settings"' a/run.json || fail "run.json lacks what produced the directory" ;;
  resume_rules)
    tiny_run --method scalora --steps 40 --checkpoint-every 10 --stop-after 20 --shadow-every 5 --out r 2>/dev/null \
      || fail "first half"
    tiny_run --method scalora --steps 40 --checkpoint-every 10 --out other 2>/dev/null || fail "other run"
    tiny_run --method scalora --steps 40 --shadow-every 5 --out straight 2>/dev/null || fail "straight run"
    ck=r/checkpoints/step-20.safetensors
    for args in "--lr 0.01" "--task syn-sst2" "--method lora" "--seeds 2" "--checkpoint-every 5" "--shadow-every 7" \
                "--eval-every 3" "--pretrain-steps 9" "--steps 10" "--out other"; do
      "$train" --resume $ck $args --plots none >/dev/null 2>err.txt; rc=$?
      [[ $rc -eq 2 ]] || fail "--resume with '$args' exited $rc, expected 2"
      grep -q -- "${args%% *}" err.txt || fail "'$args': the error does not name the option: $(cat err.txt)"
    done
    cp other/checkpoints/step-20.safetensors r/checkpoints/foreign.safetensors
    "$train" --resume r/checkpoints/foreign.safetensors --plots none >/dev/null 2>err.txt; rc=$?
    [[ $rc -eq 2 ]] && grep -q "resumes only in its own run's directory" err.txt || fail "foreign checkpoint: exit $rc"
    rm r/checkpoints/foreign.safetensors
    # A stale temporary whose name a live process could reuse (this shell's pid) does not block the resume.
    touch "r/checkpoints/step-30.safetensors.tmp.$$.0123456789abcdef"
    # Stored settings may be repeated; --checkpoint-every is the stored one (10) without being given.
    "$train" --resume $ck --lr 0.003 --shadow-every 5 --plots none 2>err.txt || { cat err.txt; fail "resume failed"; }
    [[ -f r/checkpoints/step-30.safetensors && -f r/checkpoints/step-40.safetensors ]] || fail "resume lost --checkpoint-every"
    [[ -z "$(find r -name '*.tmp.*')" ]] || fail "stale temporary left: $(find r -name '*.tmp.*')"
    [[ "$(grep shadow_checks r/summary.json)" == "$(grep shadow_checks straight/summary.json)" ]] \
      || fail "shadow_checks not the whole run's: $(grep shadow_checks r/summary.json straight/summary.json)"
    # --steps may extend a run.
    "$train" --resume r/checkpoints/step-40.safetensors --steps 50 --plots none 2>/dev/null || fail "--steps 50 extension"
    [[ $(tail -n 1 r/steps.csv | cut -d, -f1) == 50 ]] && grep -q '"steps_done": 50' r/summary.json \
      || fail "the extension did not reach step 50" ;;
  kill_resume)
    # Killed (SIGKILL) mid-run and resumed from its newest checkpoint, a run writes the straight run's logs.
    common=(--method scalora --steps 600 --eval-every 50 --shadow-every 50 --checkpoint-every 20)
    tiny_run "${common[@]}" --out straight 2>/dev/null || fail "uninterrupted run"
    "$train" "${tiny[@]}" --pretrained none "${common[@]}" --out killed 2>/dev/null & pid=$!
    trap 'kill -9 $pid 2>/dev/null' EXIT
    for _ in $(seq 500); do [[ -f killed/checkpoints/step-20.safetensors ]] && break; sleep 0.01; done
    kill -9 $pid; wait $pid 2>/dev/null
    [[ ! -f killed/summary.json ]] || fail "the run finished before the kill (make it longer)"
    newest=$(ls killed/checkpoints/step-*.safetensors | sort -t- -k2 -n | tail -1)
    [[ -n "$newest" ]] || fail "no checkpoint before the kill"
    "$train" --resume "$newest" --plots none 2>/dev/null || fail "resume after the kill"
    for f in steps.csv eval.csv layers.csv; do cmp straight/$f killed/$f || fail "$f differs"; done
    [[ "$(grep shadow_checks straight/summary.json)" == "$(grep shadow_checks killed/summary.json)" ]] \
      || fail "shadow_checks differ after the kill" ;;
  corrupt_checkpoint)
    tiny_run --method lora --steps 4 --checkpoint-every 2 --stop-after 2 --out r 2>/dev/null || fail "run"
    ck=r/checkpoints/step-2.safetensors
    cp $ck good.safetensors
    size=$(stat -c %s $ck)
    printf '\x55' | dd of=$ck bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null  # a byte of the last tensor
    "$train" --resume $ck --plots none >/dev/null 2>err.txt; rc=$?
    [[ $rc -eq 2 ]] || fail "corrupted checkpoint exited $rc, expected 2"
    grep -q "checksum_mismatch.*tensor '" err.txt || fail "the error does not name the tensor: $(cat err.txt)"
    cp good.safetensors $ck
    sed -i 's/"task_name":"syn-rte"/"task_name":"syn-rtf"/' $ck  # metadata, same length
    "$train" --resume $ck --plots none >/dev/null 2>err.txt; rc=$?
    [[ $rc -eq 2 ]] && grep -q "tensor '__metadata__'" err.txt || fail "corrupted metadata: exit $rc, $(cat err.txt)" ;;
  short_write)
    # A file-size limit makes a CSV row's write fail part-way: exit 3 with the system's reason, whole rows only.
    (trap '' XFSZ; ulimit -f 8; exec "$train" "${tiny[@]}" --pretrained none --method lora --steps 400 --out a) \
      >/dev/null 2>err.txt; rc=$?
    [[ $rc -eq 3 ]] || fail "exit $rc, expected 3"
    grep -q "File too large" err.txt || fail "no system reason: $(cat err.txt)"
    for f in a/*.csv; do [[ -z "$(tail -c 1 "$f")" ]] || fail "$f ends in a partial row"; done
    awk -F, 'NR>1 && NF!=4 {bad=1} END {exit bad}' a/steps.csv || fail "steps.csv has a broken row"
    [[ ! -f a/summary.json ]] || fail "a failed run wrote a summary" ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS $case_name"
