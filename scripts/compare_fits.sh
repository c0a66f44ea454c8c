#!/usr/bin/env bash
# Times Cinema's SVD fit (wasm and native) against Surprise's and Cornac's on
# the seed-42 latest-small split, interleaved: each round runs three fits of
# each, and the medians over all rounds are printed. Why interleaved: on a
# shared machine the speed drifts by tens of percent over minutes, so timing
# one side after the other compares the machine's moods, not the code.
#
#   scripts/compare_fits.sh [ROUNDS] [CINEMA]
#
# ROUNDS defaults to 8, CINEMA to target/release/cinema. Needs ../shared
# beside the repository and the peers' venv at /tmp/peers (see
# ../shared/peers/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-8}
cinema=${2:-target/release/cinema}
split=../shared/splits/ml-latest-small-seed42
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
for _ in $(seq "$rounds"); do
  "$cinema" --home "$home" bench --dataset ../shared/datasets/ml-latest-small --split-dir "$split" \
      --fit-runs 3 --startup-runs 0 --json 2>/dev/null |
    python3 -c 'import json, sys; d = json.load(sys.stdin)
print("cinema_wasm", *d["fit_seconds_wasm_runs"]); print("cinema_native", *d["fit_seconds_native_runs"])'
  /tmp/peers/bin/python scripts/peer_fit_times.py --split-dir "$split" --runs 3 2>/dev/null |
    python3 -c 'import json, sys; d = json.load(sys.stdin)
print("surprise_svd", *d["surprise_svd_fit_seconds_runs"]); print("cornac_mf", *d["cornac_mf_fit_seconds_runs"])'
done | python3 -c '
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in sys.stdin:
    name, *times = line.split()
    runs[name] += map(float, times)
for name, times in runs.items():
    print(f"{name:14} median {statistics.median(times):.3f} s  fastest {min(times):.3f} s  ({len(times)} fits)")
'
