#!/usr/bin/env bash
# Times Cinema's iALS fit inside wasm (one instance, and a team of two on
# two cores) against implicit's (one and two threads) on the seed-42
# latest-small split, interleaved round by round (see compare_fits.sh for
# why), with an older Cinema binary beside it when given. Prints every
# round, then the medians.
#
#   scripts/compare_ials.sh [ROUNDS] [CINEMA] [CINEMA_BEFORE]
#
# ROUNDS defaults to 5, CINEMA to target/release/cinema. Needs ../shared
# beside the repository and a Python with implicit 0.7.3 and threadpoolctl
# (PYTHON, default python3; see ../shared/peers/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cinema=${2:-target/release/cinema}
before=${3:-}
python=${PYTHON:-python3}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
fit() {
  "$1" --home "$home" eval --dataset ../shared/datasets/ml-latest-small --jobs "${2:-2}" \
      --split-dir ../shared/splits/ml-latest-small-seed42 --epochs 1 --ranking ials --json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["ranking_fit_seconds"])'
}
implicit() {
  (cd ../shared/peers && OPENBLAS_NUM_THREADS=1 "$python" ials_bench.py split-dir ../splits/ml-latest-small-seed42 \
      ../datasets/ml-latest-small/movies.csv --threads "$1" 2>/dev/null) |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["fit_seconds"])'
}
for _ in $(seq "$rounds"); do
  if [ -n "$before" ]; then echo "cinema_before $(fit "$before")"; fi
  echo "cinema_one_instance $(fit "$cinema" 1)"
  echo "cinema_two_instances $(fit "$cinema" 2)"
  echo "implicit_1_thread $(implicit 1)"
  echo "implicit_2_threads $(implicit 2)"
done | tee /dev/stderr | python3 -c '
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in sys.stdin:
    name, seconds = line.split()
    runs[name].append(float(seconds))
for name, r in runs.items():
    print(f"{name}: median {statistics.median(r):.3f} s ({min(r):.3f}-{max(r):.3f}, {len(r)} runs)")'
