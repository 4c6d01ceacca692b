"""Python peers for bench/scale, trained as a Python user would on one
machine, printing {"weighted_f1": ...}. Run with /usr/bin/python3.

    peers.py sklearn-logistic|xgboost TRAIN.csv VALIDATION.csv ROUNDS
"""
import json
import sys

import numpy as np


def load(path):
    data = np.loadtxt(path, delimiter=";", skiprows=1, dtype=np.float64)  # numpy's C parser
    return data[:, :-1], data[:, -1].astype(int)


def main():
    kind, train_path, validation_path, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    from sklearn.metrics import f1_score

    x, y = load(train_path)
    vx, vy = load(validation_path)
    if kind == "sklearn-logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        predicted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y).predict(vx)
    elif kind == "xgboost":
        import xgboost as xgb

        classes = np.unique(y)
        model = xgb.XGBClassifier(n_estimators=rounds, max_depth=4, learning_rate=0.05, subsample=0.8,
                                  colsample_bytree=0.8, tree_method="hist", n_jobs=2, random_state=1)
        model.fit(x, np.searchsorted(classes, y))
        predicted = classes[model.predict(vx)]
    else:
        sys.exit(f"unknown peer {kind}")
    print(json.dumps({"weighted_f1": f1_score(vy, predicted, average="weighted")}))


if __name__ == "__main__":
    main()
