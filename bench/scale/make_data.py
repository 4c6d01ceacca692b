"""Writes a synthetic wine-like classification set for bench/scale: 11
numeric features named as in the wine data, `;`-separated, and a `quality`
label 3..8 drawn from a fixed softmax model with an interaction term (so
trees can beat a linear model a little). Deterministic for a seed; written
in chunks, so memory stays flat whatever --rows is.

    /usr/bin/python3 bench/scale/make_data.py --rows 5000000 --out bench/scale/data
"""
import argparse
import os

import numpy as np

FEATURES = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
            "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]
MEANS = np.array([8.3, 0.53, 0.27, 2.5, 0.087, 15.9, 46.5, 0.9967, 3.31, 0.66, 10.4])
SDS = np.array([1.7, 0.18, 0.19, 1.4, 0.047, 10.5, 32.9, 0.0019, 0.15, 0.17, 1.07])
CLASSES = np.arange(3, 9)
CHUNK = 250_000


def model(seed):
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 0.6, size=(len(FEATURES), len(CLASSES)))
    bias = np.array([-3.0, -1.5, 1.2, 1.0, -0.5, -2.5])  # wine-like class balance
    return weights, bias


def write(path, rows, seed, weights, bias):
    rng = np.random.default_rng(seed)
    header = ";".join(f'"{name}"' for name in FEATURES) + ';"quality"\n'
    with open(path, "w") as f:
        f.write(header)
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            z = rng.normal(size=(n, len(FEATURES)))
            scores = z @ weights + bias
            scores[:, 3] += 0.8 * z[:, 10] * z[:, 1]  # an interaction only trees see
            scores += rng.gumbel(size=scores.shape)  # softmax sampling
            label = CLASSES[np.argmax(scores, axis=1)]
            x = MEANS + z * SDS
            table = np.column_stack([x, label])
            np.savetxt(f, table, fmt=["%.5g"] * len(FEATURES) + ["%d"], delimiter=";")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--validation-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="bench/scale/data")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    weights, bias = model(args.seed)
    train = os.path.join(args.out, f"train-{args.rows}-{args.seed}.csv")
    validation = os.path.join(args.out, f"validation-{args.validation_rows}-{args.seed}.csv")
    write(train, args.rows, args.seed * 2 + 1, weights, bias)
    write(validation, args.validation_rows, args.seed * 2 + 2, weights, bias)
    for path in (train, validation):
        print(f"{path}: {os.path.getsize(path) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
