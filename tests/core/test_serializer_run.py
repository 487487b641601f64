"""serializer_run: one field-bound serializer per class and thread gives exactly what a fresh one's is_valid gives."""

from __future__ import annotations

import threading

import pytest

from apps.core.exceptions import serializer_run
from apps.verifications.serializers import VerificationConfigSerializer

INPUTS = [
    {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}},
    {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Nope"}}, "extra": 1},
    {"verifierConfigs": {"age": {"type": "ThresholdVerification", "threshold": "x"}}},
    {"webhookConfig": {"eventCallbackUrl": "ftp://example.com/"}},
    {},
    [],
    "text",
    None,
]


def _fresh(data):
    serializer = VerificationConfigSerializer(data=data)
    return (serializer.validated_data, {}) if serializer.is_valid() else ({}, serializer.errors)


@pytest.mark.parametrize("data", INPUTS, ids=range(len(INPUTS)))
def test_a_reused_serializer_answers_as_a_fresh_one_every_time(data):
    expected = _fresh(data)
    for _ in range(2):  # the second call reuses the instance the first one made
        value, errors = serializer_run(VerificationConfigSerializer, data)
        assert (value, errors) == expected
        assert [type(e).__name__ for e in _leaves(errors)] == [type(e).__name__ for e in _leaves(expected[1])]


def _leaves(detail):
    if isinstance(detail, dict):
        return [leaf for value in detail.values() for leaf in _leaves(value)]
    if isinstance(detail, list):
        return [leaf for value in detail for leaf in _leaves(value)]
    return [detail]


def test_the_fields_are_built_once_per_thread(monkeypatch):
    built = []
    original = VerificationConfigSerializer.get_fields

    def counting(self):
        built.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(VerificationConfigSerializer, "get_fields", counting)

    def work():
        for _ in range(5):
            serializer_run(VerificationConfigSerializer, INPUTS[0])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 3 and len(set(built)) == 3  # each thread once, none shared
