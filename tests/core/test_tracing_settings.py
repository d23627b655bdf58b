"""How Seldon v1's tracing switches and JAEGER_* variables map onto OpenTelemetry settings (docs/compatibility.md)."""

from __future__ import annotations

import pytest

from seldon_graph.tracing import ALWAYS_OFF, ALWAYS_ON, GRPC, HTTP, RATIO, TracingError, tracing_settings


def test_off_by_default_and_when_disabled():
    assert tracing_settings({}, False, "unit") is None
    assert tracing_settings({"TRACING": "0"}, False, "unit") is None
    assert tracing_settings({"TRACING": "1", "OTEL_SDK_DISABLED": "true"}, False, "unit") is None
    assert tracing_settings({"OTEL_TRACES_EXPORTER": "none"}, True, "unit") is None


def test_switched_on_by_the_flag_the_variable_or_an_otlp_endpoint():
    assert tracing_settings({}, True, "unit").service_name == "unit"
    assert tracing_settings({"TRACING": "1"}, False, "unit") is not None
    on = tracing_settings(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": HTTP}, False, "u"
    )
    assert (on.endpoint, on.protocol) == ("http://collector:4318", HTTP)


def test_jaeger_agent_maps_to_otlp_grpc_on_the_same_host():
    settings = tracing_settings(
        {"TRACING": "1", "JAEGER_AGENT_HOST": "jaeger", "JAEGER_AGENT_PORT": "6831"}, False, "u"
    )
    assert (settings.endpoint, settings.protocol) == ("http://jaeger:4317", GRPC)
    other = tracing_settings({"TRACING": "1", "JAEGER_AGENT_HOST": "jaeger", "JAEGER_AGENT_PORT": "14317"}, False, "u")
    assert other.endpoint == "http://jaeger:14317"
    otel_wins = {"TRACING": "1", "JAEGER_AGENT_HOST": "jaeger", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317"}
    assert tracing_settings(otel_wins, False, "u").endpoint == "http://c:4317"


@pytest.mark.parametrize(
    ("env", "sampler", "ratio"),
    [
        ({"JAEGER_SAMPLER_TYPE": "const", "JAEGER_SAMPLER_PARAM": "1"}, ALWAYS_ON, 1.0),
        ({"JAEGER_SAMPLER_TYPE": "const", "JAEGER_SAMPLER_PARAM": "0"}, ALWAYS_OFF, 0.0),
        ({"JAEGER_SAMPLER_TYPE": "probabilistic", "JAEGER_SAMPLER_PARAM": "0.25"}, RATIO, 0.25),
        ({"JAEGER_SAMPLER_TYPE": "ratelimiting", "JAEGER_SAMPLER_PARAM": "5"}, ALWAYS_ON, 1.0),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"}, RATIO, 0.01),
        ({"OTEL_TRACES_SAMPLER": "always_off", "JAEGER_SAMPLER_TYPE": "const"}, ALWAYS_OFF, 1.0),
    ],
)
def test_samplers(env, sampler, ratio):
    settings = tracing_settings({"TRACING": "1", **env}, False, "u")
    assert (settings.sampler, settings.ratio) == (sampler, ratio)


def test_service_name_and_b3():
    env = {"TRACING": "1", "JAEGER_SERVICE_NAME": "svc", "JAEGER_TRACE_PROPAGATION_TYPE": "b3"}
    settings = tracing_settings(env, False, "unit")
    assert (settings.service_name, settings.b3) == ("svc", True)
    assert tracing_settings({**env, "OTEL_SERVICE_NAME": "otel"}, False, "unit").service_name == "otel"


@pytest.mark.parametrize(
    "env",
    [
        {"JAEGER_SAMPLER_TYPE": "probabilistic", "JAEGER_SAMPLER_PARAM": "2"},
        {"OTEL_TRACES_SAMPLER": "sometimes"},
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"},
    ],
)
def test_bad_settings_say_which_variable(env):
    with pytest.raises(TracingError, match=next(iter(env))[:12]):
        tracing_settings({"TRACING": "1", **env}, False, "u")
