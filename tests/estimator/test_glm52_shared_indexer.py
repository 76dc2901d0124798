"""GLM-5.2: only the layers ``indexer_types`` marks "full" hold a DSA indexer, in weights and in the cache.

Ground truth: the public per-tensor report of the checkpoint (github:gogongxt/python/scripts/models/
glm_5.2.md@b521199165b8936d12197280607fc420c1d6b489: indexer tensors on "model.layers.0-2,6,10,...,74,78"
(x22 layers), 753,329,940,480 elements in all) and llama.cpp's own log of its cache (44928.00 MiB for
78 MLA layers, 2688.00 MiB of indexer keys for 21 layers at 524288 cells; bench/data/measurements.toml).
"""

from __future__ import annotations

from estimator import account_from_config, estimate_kv_cache_bytes, parse_model_config
from estimator._families import Family, TensorBuilder, builder_for
from tests.factories.catalog import catalog_config

REPORT_TOTAL = 753_329_940_480
INDEXED_LAYERS = {0, 1, 2, *range(6, 75, 4), 78}  # the report's "0-2,6,10,...,74,78"
MIB = 1 << 20



def test_indexer_weights_sit_where_the_checkpoint_stores_them() -> None:
    """The synthesised checkpoint has indexer tensors on exactly the report's 22 layers (21 + MTP)."""
    raw = catalog_config("zai-org/GLM-5.2")
    config = parse_model_config(raw)
    builder = TensorBuilder()
    build = builder_for(config.model_type)
    assert build is not None
    build(Family(config, raw.get("text_config", raw), raw), builder)
    layers = {int(t.name.split(".")[2]) for t in builder.tensors if ".indexer." in t.name}
    assert layers == INDEXED_LAYERS
    assert account_from_config(raw).total_params == REPORT_TOTAL


def test_indexer_cache_only_for_its_own_layers() -> None:
    """llama.cpp's main cache (78 MLA layers) plus indexer keys for 21 layers, to the MiB it printed."""
    config = parse_model_config(catalog_config("zai-org/GLM-5.2"))
    assert sum(1 for layer in config.layer_map.layers if layer.attention and layer.attention.indexer_head_dim) == 21
    assert estimate_kv_cache_bytes(config, 524288) == (44928 + 2688) * MIB


def test_glm5_without_indexer_types_keeps_an_indexer_on_every_layer() -> None:
    """GLM-5/5.1 name no indexer_types: each of their 78 layers indexes, as before."""
    config = parse_model_config(catalog_config("zai-org/GLM-5.1"))
    assert all(layer.attention and layer.attention.indexer_head_dim for layer in config.layer_map.layers)
