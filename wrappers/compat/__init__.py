"""Stand-ins for the parts of seldon-core that model classes import, used only when seldon-core is absent.

`seldon-core-microservice` puts this folder on sys.path when `import seldon_core` would fail, so classes written
for seldon-core (`from seldon_core.user_model import SeldonComponent`, `SeldonResponse`,
`from seldon_core.flask_utils import SeldonMicroserviceException`, `seldon_core.metrics.create_counter`,
`seldon_core.utils`, `seldon_core.proto.prediction_pb2`) run unchanged without installing it.
"""

from pathlib import Path

PATH = str(Path(__file__).resolve().parent)
