import numpy as np


class MyCombiner:
    def aggregate(self, Xs, features_names=None):
        return np.mean(np.array(Xs), axis=0)
