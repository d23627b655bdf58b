"""The prepackaged model servers (SKLEARN_SERVER, XGBOOST_SERVER, MLFLOW_SERVER) as model classes this
project's wrapper serves, with the behaviour of Seldon's images: `model_uri` (and per server `method` or
`xtype`) parameters, the model file names they load, `metadata.yaml` as their metadata.

Their libraries are not the project's dependencies: each is the extra of its name (`sklearn-server`, …), which
the local runtime installs into a side environment on first use.
"""
