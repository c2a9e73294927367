#!/usr/bin/env bash
# Rebuilds every shipped model from ../shared/data, in order: event log → dataset (in .cache/, rebuildable, not
# shipped) → reference teacher (models/teacher/) → probe report (.cache/probe) → [students: see TODO below]. Needs a build (npm ci / tsc).
#   scripts/train-models.sh            every step
#   scripts/train-models.sh teacher    data + teacher only
# Environment: DATA (default ../shared/data), CACHE (default .cache/data), TEACHER_BUDGET (default 25m),
# TEACHER_SEED (default 1). One training thread (tfjs wasm): about 25-30 min on this 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/data}
CACHE=${CACHE:-.cache/data}
STEP=${1:-all}
CMM="node dist/src/cli/cmm.js"
LOG="$CACHE/binance-usdm.cmmlog"
DS="$CACHE/binance-usdm.cmmds"
mkdir -p "$CACHE"

case "$STEP" in all|teacher) ;; *) echo "usage: scripts/train-models.sh [all|teacher]" >&2; exit 2 ;; esac

# 1. One event log with both Binance USD-M perpetuals (BTCUSDT, ETHUSDT), merged by receive time.
IMPORT_CMD="cmm import binance $DATA/binance/usdm_btcusdt_20240808.gz $DATA/binance/usdm_ethusdt_20240808.gz -o $LOG"
$CMM ${IMPORT_CMD#cmm }

# 2. The CMM dataset: horizon h = 1 s, a decision every 50 ms, window T = 32, split 0.6/0.2/0.2 per source in
#    time order, regime cut points per source (train split only). A horizon in events does not suit Binance
#    depth@0ms: one diff is ~77 level events, so h = 50 events left the mid target 0 on 17 of 35,518 samples.
$CMM dataset "$LOG" -o "$DS" --horizon 1s --every 0.05s --window 32 --split 0.6,0.2,0.2 --regimes source

# 3. Reference teacher: 4 layers, d = 64, TRAIN split only (validation = its later slice), 25-minute budget, seed 1;
#    ONNX + manifest in models/teacher/, TEST-split scores recorded in the manifest.
$CMM teacher train --dataset "$DS" -o models/teacher --layers 4 --d 64 --seed "${TEACHER_SEED:-1}" \
  --time-budget "${TEACHER_BUDGET:-25m}" --describe "event log built with: $IMPORT_CMD"

[ "$STEP" = teacher ] && exit 0

# 4. Fluorescent probe of the shipped teacher (a report, not a model: fit on train, scored on test).
$CMM probe --dataset "$DS" --teacher models/teacher -o .cache/probe

# TODO (students): `cmm distill` exists but fails on this dataset today: with h = 50 events the mid target is
# 0 on all but 17 of 35,518 samples (one Binance depth@0ms diff is ~77 level events, so the horizon almost never
# reaches the next book change), and distill stops at "probe cell mid/low has no defined R²". Enable this line once
# the horizon is settled (e.g. --horizon 500 gives 37 % non-zero mid targets) and the teacher is retrained on it:
#   $CMM distill --dataset "$DS" --teacher models/teacher -o models/students
echo "train-models: teacher and probe done; the students (cmm distill) are still TODO in scripts/train-models.sh" >&2
