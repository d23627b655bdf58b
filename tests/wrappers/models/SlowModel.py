import os
import time
from pathlib import Path


class SlowModel:
    """Sleeps X seconds per prediction and says which worker process answered; touches $STARTED_FILE (if set)
    when a prediction starts, so tests know a request is in flight."""

    def predict(self, X, features_names=None):
        if os.environ.get("STARTED_FILE"):
            Path(os.environ["STARTED_FILE"]).touch()
        time.sleep(float(X.flatten()[0]))
        return {"pid": os.getpid()}
