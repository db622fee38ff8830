"""Writes scikit-learn's bundled data sets as CSV files with one header row:
the tabular data the README's table was measured on.

    /usr/bin/python3 bench/peers/sklearn_csvs.py OUTDIR
    go run ./cmd/train -csv OUTDIR/iris.csv -target species -out runs/iris

Targets: breast_cancer.csv "target" (0 malignant, 1 benign), iris.csv
"species" (the class names), wine.csv "class" (0, 1, 2), diabetes.csv
"progression" (a number; the unscaled features). Needs Debian's
python3-sklearn (apt-get install python3-sklearn); no network.
"""
import csv
import os
import sys

from sklearn import datasets


def write(path, names, X, y, target, classes=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(names) + [target])
        for row, t in zip(X, y):
            if classes is not None:
                label = classes[t]
            elif float(t).is_integer():
                label = int(t)
            else:
                label = repr(float(t))
            w.writerow([repr(float(v)) for v in row] + [label])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: sklearn_csvs.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    bc = datasets.load_breast_cancer()
    write(os.path.join(out, "breast_cancer.csv"), bc.feature_names, bc.data, bc.target, "target")
    ir = datasets.load_iris()
    write(os.path.join(out, "iris.csv"), ir.feature_names, ir.data, ir.target, "species",
          classes=list(ir.target_names))
    wi = datasets.load_wine()
    write(os.path.join(out, "wine.csv"), wi.feature_names, wi.data, wi.target, "class")
    di = datasets.load_diabetes(scaled=False)
    write(os.path.join(out, "diabetes.csv"), di.feature_names, di.data, di.target.astype(float),
          "progression")


if __name__ == "__main__":
    main()
