"""Fixtures for the network tests: models built from YAML text."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lashing.manifests.kubernetes import load_kubernetes
from lashing.network import NetworkModel, build_model

BuildModel = Callable[[str], NetworkModel]


def model_from(text: str, name: str = "cluster.yaml") -> NetworkModel:
    loaded = load_kubernetes(text, name)
    assert loaded.error is None, loaded.error
    return build_model(loaded.objects)


@pytest.fixture
def k8s() -> BuildModel:
    """Build a NetworkModel from Kubernetes YAML text (named cluster.yaml)."""
    return model_from
