"""Loads an exported XGBoost JSON model with python3-xgboost and prints the
predicted class index of every row of a ;-separated wine CSV (label dropped).
Used by export_test.cc to check that `wharf model export` round-trips."""
import sys

import numpy as np
import xgboost as xgb

model_path, csv_path, label = sys.argv[1:4]
with open(csv_path) as f:
    header = [h.strip().strip('"') for h in f.readline().strip().split(";")]
    keep = [i for i, h in enumerate(header) if h != label]
    rows = [[float(v) for i, v in enumerate(line.strip().split(";")) if i in keep] for line in f if line.strip()]
booster = xgb.Booster()
booster.load_model(model_path)
proba = booster.predict(xgb.DMatrix(np.asarray(rows, dtype=np.float32)))
for p in proba:
    print(int(np.argmax(p)))
