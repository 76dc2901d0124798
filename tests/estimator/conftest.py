"""Session-wide views of the header replicas: parsed once, shared by every estimator test.

The DeepSeek-V3 replica alone is 163 headers and ~92k tensors, so parsing and counting
are cached per process; tests get the cached functions through fixtures.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

import estimator
from tests.factories import declared_file_size, file_prefix, quantized_exact_shapes, replica


@lru_cache(maxsize=None)
def _headers(key: str) -> dict[str, estimator.SafetensorsHeader]:
    rep = replica(key)
    return {
        name: estimator.parse_safetensors_file(
            file_prefix(header), file_size=declared_file_size(header), filename=name
        )
        for name, header in rep.files.items()
    }


@lru_cache(maxsize=None)
def _tensors(key: str) -> tuple[estimator.TensorInfo, ...]:
    return tuple(t for header in _headers(key).values() for t in header.tensors)


@lru_cache(maxsize=None)
def _config(key: str) -> estimator.ModelConfig:
    return estimator.parse_model_config(replica(key).config)


@lru_cache(maxsize=None)
def _header_accounting(key: str) -> estimator.ParamAccounting:
    rep = replica(key)
    shapes = quantized_exact_shapes(rep) if rep.payloads else None
    return estimator.account_from_tensors(_tensors(key), _config(key), exact_shapes=shapes)


@lru_cache(maxsize=None)
def _config_accounting(key: str) -> estimator.ParamAccounting:
    return estimator.account_from_config(replica(key).config)


@pytest.fixture(scope="session")
def parsed_headers():
    """key -> {file name: SafetensorsHeader} parsed from the replica's file prefixes."""
    return _headers


@pytest.fixture(scope="session")
def parsed_tensors():
    """key -> every TensorInfo of the counted checkpoint."""
    return _tensors


@pytest.fixture(scope="session")
def model_config():
    """key -> ModelConfig parsed from the replica's config.json."""
    return _config


@pytest.fixture(scope="session")
def header_accounting():
    """key -> account_from_tensors over all shards (exact shapes read from payloads where any)."""
    return _header_accounting


@pytest.fixture(scope="session")
def config_accounting():
    """key -> account_from_config of the replica's config.json."""
    return _config_accounting
