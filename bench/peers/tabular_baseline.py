#!/usr/bin/python3
"""The baseline a tabular run of cmd/train is measured against.

Fits scikit-learn's LogisticRegressionCV (classification) or LinearRegression
and RidgeCV (regression) on the training rows of a run (train + validation
rows from its rows.json), numeric features standardized on those rows and
text features one-hot encoded, and prints the same last line as cmd/train
for the run's test rows:

    go run ./cmd/train -csv data.csv -target y -out runs/x
    /usr/bin/python3 bench/peers/tabular_baseline.py data.csv y runs/x/rows.json

Needs Debian's python3-sklearn (apt-get install python3-sklearn).
"""
import csv
import json
import sys

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegressionCV, RidgeCV
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def numeric(values):
    try:
        [float(v) for v in values]
        return True
    except ValueError:
        return False


def main(path, target, rows_path, task=None):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    split = json.load(open(rows_path))
    train = split["train"] + split["validation"]
    test = split["test"]
    if not test:
        sys.exit("the run was tested on its -test-csv file; rows.json has no test rows")
    features = [c for c in rows[0] if c != target]
    num = [c for c in features if numeric(r[c] for r in rows)]
    cat = [c for c in features if c not in num]
    X = np.array([[r[c] for c in features] for r in rows], dtype=object)
    y = [r[target] for r in rows]
    if task is None:
        task = "regress" if numeric(y) and len(set(float(v) for v in y)) > 20 else "classify"
    prep = ColumnTransformer([("num", StandardScaler(), [features.index(c) for c in num]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), [features.index(c) for c in cat])])
    Xtr, Xte = X[train], X[test]
    if task == "classify":
        ytr, yte = [y[i] for i in train], [y[i] for i in test]
        m = make_pipeline(prep, LogisticRegressionCV(max_iter=10000)).fit(Xtr, ytr)
        right = sum(p == t for p, t in zip(m.predict(Xte), yte))
        print("logistic: test accuracy: %.2f%% (%d/%d)" % (100 * right / len(yte), right, len(yte)))
        return
    yv = np.array([float(v) for v in y])
    for name, model in [("linear", LinearRegression()), ("ridge", RidgeCV(alphas=np.logspace(-3, 3, 13)))]:
        m = make_pipeline(prep, model).fit(Xtr, yv[train])
        p = m.predict(Xte)
        print("%s: test mse: %.4f  mae: %.4f  r2: %.4f" % (
            name, mean_squared_error(yv[test], p), mean_absolute_error(yv[test], p), r2_score(yv[test], p)))


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(*sys.argv[1:])
