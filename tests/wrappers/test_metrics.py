"""Prometheus metrics on the metrics port: user metrics with Seldon's labels, feedback, request histograms,
summed correctly over several workers."""

import re

import numpy as np
import requests
from prometheus_client.utils import floatToGoString

from tests.support.procs import wait_http
from tests.wrappers.conftest import running_unit

UNIT_ENV = {
    "PREDICTIVE_UNIT_ID": "mymodel",
    "PREDICTIVE_UNIT_IMAGE": "myimg:0.1",
    "SELDON_DEPLOYMENT_ID": "mydep",
    "PREDICTOR_ID": "default",
    "PREDICTOR_LABELS": '{"version": "v7"}',
}
LABELS = (
    'deployment_name="mydep",image_name="myimg",image_version="0.1",method="{method}",model_image="myimg",'
    'model_name="mymodel",model_version="0.1",predictor_name="default",predictor_version="v7",'
    'seldon_deployment_name="mydep"'
)


def samples(unit) -> dict:
    response = requests.get(unit.metrics_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    out = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


LABEL = re.compile(r'[a-z_]+="[^"]*"')


def sorted_labels(sample: str) -> str:
    """A sample name with its labels in alphabetical order (exposition order is not part of the contract)."""
    match = re.fullmatch(r"([^{]+)\{(.*)\}", sample)
    if not match:
        return sample
    labels = ",".join(sorted(LABEL.findall(match[2])))
    return f"{match[1]}{{{labels}}}"


def by_sorted_labels(unit) -> dict:
    return {sorted_labels(name): value for name, value in samples(unit).items()}


def test_custom_metrics_requestpath_and_labels(tmp_path):
    with running_unit(tmp_path, "MetaModel", env=UNIT_ENV, grpc=False) as unit:
        for _ in range(2):
            body = requests.post(unit.url("/predict"), json={"data": {"ndarray": [[1, 2]]}}).json()
        assert body["meta"]["requestPath"] == {"mymodel": "myimg:0.1"}
        upstream = requests.post(
            unit.url("/predict"), json={"meta": {"requestPath": {"upstream": "img:1"}}, "data": {"ndarray": [[1, 2]]}}
        ).json()
        assert upstream["meta"]["requestPath"] == {"mymodel": "myimg:0.1", "upstream": "img:1"}
        metrics = by_sorted_labels(unit)
        assert metrics[f"mycounter_total{{{LABELS.format(method='predict')}}}"] == 3.0
        count = [
            v
            for k, v in metrics.items()
            if k.startswith("seldon_api_model_requests_seconds_count")
            and 'method="predict"' in k
            and 'code="200"' in k
            and 'transport="rest"' in k
        ]
        assert count == [3.0]


def test_gauge_timer_and_feedback_metrics(tmp_path):
    with running_unit(tmp_path, "FeatureModel", grpc=False) as unit:
        for _ in range(3):
            requests.post(unit.url("/predict"), json={"data": {"ndarray": [[1, 2]]}})
        for reward in (1.0, 0.5):
            fb = requests.post(
                unit.url("/send-feedback"), json={"request": {"data": {"ndarray": [[1]]}}, "reward": reward}
            )
            assert fb.status_code == 200
        metrics = samples(unit)
    gauge = [v for k, v in metrics.items() if k.startswith("rt_gauge{") and 'method="predict"' in k]
    assert gauge == [7.0]
    timer_count = [v for k, v in metrics.items() if k.startswith("rt_timer_count{")]
    timer_sum = [v for k, v in metrics.items() if k.startswith("rt_timer_sum{")]
    assert timer_count == [3.0] and abs(timer_sum[0] - 0.06) < 1e-9
    assert [v for k, v in metrics.items() if k.startswith("seldon_api_model_feedback_total{")] == [2.0]
    assert [v for k, v in metrics.items() if k.startswith("seldon_api_model_feedback_reward_total{")] == [1.5]
    assert [v for k, v in metrics.items() if k.startswith("fb_total{") and 'method="feedback"' in k] == [4.0]


def test_metrics_are_summed_over_workers_without_worker_series(tmp_path):
    with running_unit(tmp_path, "MetaModel", "--workers", "2", grpc=False) as unit:
        for _ in range(20):
            with requests.Session() as session:  # a new connection each time, so both workers serve
                assert session.post(unit.url("/predict"), json={"data": {"ndarray": [[1]]}}).status_code == 200
        metrics = samples(unit)
    counters = {k: v for k, v in metrics.items() if k.startswith("mycounter_total{")}
    assert list(counters.values()) == [20.0]
    assert not any("worker_id" in k or 'pid="' in k for k in metrics)


def test_grpc_requests_are_counted(tmp_path):
    import grpc
    from google.protobuf import json_format

    from seldon_graph.proto import prediction_pb2 as pb
    from seldon_graph.proto import prediction_pb2_grpc as pbg

    with running_unit(tmp_path, "Model") as unit:
        with grpc.insecure_channel(unit.grpc_target) as channel:
            message = json_format.ParseDict({"data": {"ndarray": [[1]]}}, pb.SeldonMessage())
            pbg.ModelStub(channel).Predict(message)
            try:
                pbg.RouterStub(channel).Route(message)
            except grpc.RpcError:
                pass
        metrics = samples(unit)
    grpc_counts = {
        k: v
        for k, v in metrics.items()
        if k.startswith("seldon_api_model_requests_seconds_count") and 'transport="grpc"' in k
    }
    assert sorted((('method="predict"' in k, 'code="OK"' in k), v) for k, v in grpc_counts.items()) == [
        ((False, False), 1.0),
        ((True, True), 1.0),
    ]


def test_timer_histograms_have_seldon_core_buckets(tmp_path):
    """A TIMER is a histogram whose bounds are seldon-core's BINS without their lowest edge 0: 50 log-spaced
    bounds from 0.001 to 30 s, then +Inf (SeldonIO/seldon-core python/seldon_core/metrics.py, `BINS` and
    `_expose_histogram`, which labels each bucket with BINS[1:])."""
    with running_unit(tmp_path, "FeatureModel", grpc=False) as unit:
        requests.post(unit.url("/predict"), json={"data": {"ndarray": [[1, 2]]}})
        wait_http(unit.metrics_url)
        metrics = samples(unit)
    bounds = [re.search(r'le="([^"]+)"', k)[1] for k in metrics if k.startswith("rt_timer_bucket{")]
    expected = [floatToGoString(b) for b in np.logspace(-3, np.log10(30), 50)] + ["+Inf"]
    assert bounds == expected
    assert metrics[next(k for k in metrics if k.startswith("rt_timer_bucket{") and 'le="0.02' in k)] == 1.0
