"""A model folder as users write it for Seldon's s2i images: class MyModel in MyModel.py (no seldon import)."""

import numpy as np


class MyModel:
    """MODEL: returns X * 2."""

    def predict(self, X, features_names=None):
        return np.asarray(X) * 2
