"""Python peers for bench/train_wine: the same wine split, trained the way a
Python user would, printing {"weighted_f1": ...} as JSON. Run with
/usr/bin/python3 (Debian's python3-sklearn and python3-xgboost).

    peers.py MODEL TRAIN.csv VALIDATION.csv
    MODEL: sklearn-logistic | sklearn-hgb | sklearn-rf | sklearn-rf-ordinal | xgboost
"""
import json
import sys

import numpy as np


def load(path):
    data = np.genfromtxt(path, delimiter=";", skip_header=1, dtype=np.float64)
    return data[:, :-1], data[:, -1].astype(int)


def main():
    kind, train_path, validation_path = sys.argv[1:4]
    from sklearn.metrics import f1_score

    x, y = load(train_path)
    vx, vy = load(validation_path)
    if kind == "sklearn-logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    elif kind == "sklearn-hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(random_state=1)
    elif kind == "sklearn-rf":
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=300, n_jobs=-1, random_state=1)
    elif kind == "sklearn-rf-ordinal":  # wharf's default, done in sklearn: regress, round to a class
        from sklearn.ensemble import RandomForestRegressor

        model = RandomForestRegressor(n_estimators=200, max_depth=14, n_jobs=-1, random_state=1).fit(x, y)
        predicted = np.clip(np.rint(model.predict(vx)), y.min(), y.max()).astype(int)
        print(json.dumps({"weighted_f1": f1_score(vy, predicted, average="weighted")}))
        return
    elif kind == "xgboost":
        import xgboost as xgb

        classes = np.unique(y)
        model = xgb.XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.05, subsample=0.8,
                                  colsample_bytree=0.8, tree_method="hist", random_state=1)
        model.fit(x, np.searchsorted(classes, y))
        predicted = classes[model.predict(vx)]
        print(json.dumps({"weighted_f1": f1_score(vy, predicted, average="weighted")}))
        return
    else:
        sys.exit(f"unknown peer {kind}")
    model.fit(x, y)
    print(json.dumps({"weighted_f1": f1_score(vy, model.predict(vx), average="weighted")}))


if __name__ == "__main__":
    main()
