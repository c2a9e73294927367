#!/usr/bin/env bash
# Rebuilds every shipped model from ../shared/data, in order: event log → dataset (in .cache/, rebuildable, not
# shipped) → reference teacher (models/teacher/) → probe report (.cache/probe) → OFDD students + Hájek-MoE
# (models/students/). Needs a build (npm ci / tsc).
#   scripts/train-models.sh            every step (about 35 min on this 2-core machine: teacher 25-30, students 5)
#   scripts/train-models.sh teacher    data + teacher only
#   scripts/train-models.sh students   data + probe + students from the teacher already in models/teacher (5 min)
# Environment: DATA (default ../shared/data), CACHE (default .cache/data), TEACHER_BUDGET (default 25m),
# TEACHER_SEED (default 1), STUDENTS_DIR (default models/students; point it elsewhere to check a rebuild against
# the shipped students without replacing them). The teacher trains on one thread (tfjs wasm).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/data}
CACHE=${CACHE:-.cache/data}
STEP=${1:-all}
CMM="node dist/src/cli/cmm.js"
LOG="$CACHE/binance-usdm.cmmlog"
DS="$CACHE/binance-usdm.cmmds"
STUDENTS_DIR=${STUDENTS_DIR:-models/students}
mkdir -p "$CACHE"

case "$STEP" in all|teacher|students) ;; *) echo "usage: scripts/train-models.sh [all|teacher|students]" >&2; exit 2 ;; esac

# 1. One event log with both Binance USD-M perpetuals (BTCUSDT, ETHUSDT), merged by receive time.
IMPORT_CMD="cmm import binance $DATA/binance/usdm_btcusdt_20240808.gz $DATA/binance/usdm_ethusdt_20240808.gz -o $LOG"
$CMM ${IMPORT_CMD#cmm }

# 2. The CMM dataset: horizon h = 1 s, a decision every 50 ms, window T = 32, split 0.6/0.2/0.2 per source in
#    time order, regime cut points per source (train split only). A horizon in events does not suit Binance
#    depth@0ms: one diff is ~77 level events, so h = 50 events left the mid target 0 on 17 of 35,518 samples.
$CMM dataset "$LOG" -o "$DS" --horizon 1s --every 0.05s --window 32 --split 0.6,0.2,0.2 --regimes source

# 3. Reference teacher: 4 layers, d = 64, TRAIN split only (validation = its later slice), 25-minute budget, seed 1;
#    ONNX + manifest in models/teacher/, TEST-split scores recorded in the manifest.
if [ "$STEP" != students ]; then
  $CMM teacher train --dataset "$DS" -o models/teacher --layers 4 --d 64 --seed "${TEACHER_SEED:-1}" \
    --time-budget "${TEACHER_BUDGET:-25m}" --describe "event log built with: $IMPORT_CMD"
fi

[ "$STEP" = teacher ] && exit 0

# 4. Fluorescent probe of the shipped teacher (a report, not a model: fit on train, scored on test).
$CMM probe --dataset "$DS" --teacher models/teacher -o .cache/probe

# 5. Students: 9 OFDD students (3 tasks × 3 regimes, 11 → 32 → 32 → d'+1) + Hájek-MoE, and the baselines the
#    experiments need (no distillation, plain KD, ridge), distilled from models/teacher on the TRAIN split. d' from
#    {2, 4, 8}, α from {1, 3, 10} and β from {0, 1} are chosen per task on the validation split; TEST-split scores are
#    recorded in the manifest. Seed 1, one thread, about 5 minutes. From the same dataset and teacher this gives a
#    students.onnx byte-identical to the shipped one (same sha256, same test scores).
$CMM distill --dataset "$DS" --teacher models/teacher -o "$STUDENTS_DIR" --dprime 2,4,8 --alpha 1,3,10 --beta 0,1 \
  --hidden 32x32 --baselines --seed 1
