#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# CTest tool.verify.relative_units: a large failure in eps units also prints
# relative units, value * eps; a small one does not.
#   verify_relative.sh SCALORA_VERIFY SUITE_DIR
# merge_missing: W_unchanged ~3e6 eps_F32, printed "3.179e+06 (0.379 relative)";
# the relative value must be value * 2^-23 to its 4 printed digits (5e-4 relative).
# factor_entry_off: out.A ~8 eps_F32, below 1e4: no relative part.
verify=$1 suite=$2
"$verify" "$suite/corrupt/merge_missing.safetensors" | awk '
  $1 == "FAIL" && $2 == "W_unchanged" { print; v = $3 + 0; r = substr($4, 2) + 0
    if ($5 == "relative)" && v >= 1e4 && (v * 2^-23 - r)^2 <= (5e-4 * r)^2) ok = 1 }
  END { if (!ok) print "no W_unchanged failure with value * eps_F32 in relative units"; exit !ok }' || exit 1
"$verify" "$suite/corrupt/factor_entry_off.safetensors" | awk '
  $1 == "FAIL" && $2 == "out.A" { print; seen = 1; if ($0 ~ /relative\)/) bad = 1 }
  END { if (!seen || bad) print "out.A: expected a small failure in eps only"; exit !(seen && !bad) }'
