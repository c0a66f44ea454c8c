#!/usr/bin/env python3
"""Times the peers' fits the way `cinema bench --fit-runs N` times Cinema's:
N fits each, alternating, on the same split, and prints every run and the
median as JSON. Fits are built exactly as ../shared/peers/ builds them:
Surprise `SVD(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02,
random_state=42)` and Cornac `MF(k=100, max_iter=20, learning_rate=0.005,
lambda_reg=0.02, use_bias=True, seed=42)` (one thread, as Cornac runs with a
seed). Why: on a shared 2-core machine a single fit moves by ±30 %, so one
run of each side cannot be compared.

    /tmp/peers/bin/python scripts/peer_fit_times.py \\
        --split-dir ../shared/splits/ml-latest-small-seed42 --runs 15
(the venv is the one ../shared/peers/README.md sets up).
"""
import argparse, json, statistics, time

import pandas as pd
from cornac.data import Dataset as CornacDataset
from cornac.models import MF
from surprise import SVD, Dataset, Reader


def read(path):
    with open(path, encoding="latin-1") as f:
        return [(p[0], p[1], float(p[2])) for p in (line.rstrip("\n").split("\t") for line in f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split-dir", required=True)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    train = read(f"{args.split_dir}/train.tsv")
    trainset = Dataset.load_from_df(pd.DataFrame(train, columns=["u", "i", "r"]), Reader(rating_scale=(0.5, 5))).build_full_trainset()
    cornac_data = CornacDataset.from_uir(train, seed=42)
    runs = {"surprise_svd_fit": [], "cornac_mf_fit": []}
    for _ in range(args.runs):
        algo = SVD(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02, random_state=42)
        t0 = time.perf_counter(); algo.fit(trainset); runs["surprise_svd_fit"].append(time.perf_counter() - t0)
        mf = MF(k=100, max_iter=20, learning_rate=0.005, lambda_reg=0.02, use_bias=True, early_stop=False, seed=42, verbose=False)
        t0 = time.perf_counter(); mf.fit(cornac_data); runs["cornac_mf_fit"].append(time.perf_counter() - t0)
    report = {"ratings": len(train), "runs": args.runs}
    for name, times in runs.items():
        report[f"{name}_seconds"] = statistics.median(times)
        report[f"{name}_seconds_runs"] = times
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
