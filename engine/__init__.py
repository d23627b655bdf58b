"""The per-predictor orchestrator (`seldon-engine`): one process serves one predictor's graph.

Where things live:
  cli.py            flags, start-up, SIGTERM drain          source.py          predictor from env / file, annotations
  predictor.py      typed spec → validated runtime nodes    graph.py           THE graph walk (predict, feedback, …)
  builtins.py       SIMPLE_MODEL, SIMPLE_ROUTER, …          router_reply.py    the route value in a router's reply
  payload.py        meta split off undecoded message bytes  request_state.py   one request's puid, headers, records
  unit_pool.py      the unit-client interface and pool      rest_unit.py / grpc_unit.py / http_client.py
  unit_errors.py    unit failures as Seldon errors          rest_server.py / grpc_server.py   external APIs
  metrics.py        Prometheus                              request_logger.py  CloudEvents request logging
"""
