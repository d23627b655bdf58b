"""Train the tests' sklearn classifier (run in the MLServer venv): python train.py OUT.joblib"""

import sys

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(7)
centres = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, 3.0, 0.0, 0.0], [0.0, 3.0, 3.0, 3.0]])
features = np.concatenate([centre + rng.normal(size=(40, 4)) for centre in centres])
labels = np.repeat(np.arange(3), 40)
joblib.dump(LogisticRegression(max_iter=500).fit(features, labels), sys.argv[1])
