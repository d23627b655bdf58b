import numpy as np


class Difference:
    """COMBINER: first child's output minus the second's (so child order shows in the result)."""

    def aggregate(self, Xs, features_names=None):
        return np.asarray(Xs[0]) - np.asarray(Xs[1])
