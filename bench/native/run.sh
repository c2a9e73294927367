#!/bin/sh
# Builds and runs the native book/feature micro-benchmark with the addon's flags (-O3 -fstrict-aliasing, no -ffast-math).
# Usage: bench/native/run.sh [lobster_message.csv] [reps]
set -e
cd "$(dirname "$0")/../.."
mkdir -p build/bench
g++ -O3 -fstrict-aliasing -std=gnu++17 -Wall -Wextra -Inative -o build/bench/book_features_bench bench/native/book_features_bench.cc \
  native/book/*.cc native/features/*.cc native/market/*.cc
exec build/bench/book_features_bench "$@"
