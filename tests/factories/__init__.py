"""Independent builders of checkpoint header replicas for tests and benchmarks.

Nothing here imports ``estimator``: the replicas are an oracle for it. Builders are
cached; treat what they return as read-only (``copy.deepcopy`` before changing it).

    from tests.factories import replica, ANCHORS
    r = replica("deepseek-v3")          # 163 shard headers, ~92k tensors
    r.files["model-00001-of-000163.safetensors"]   # header dict
    file_prefix(r.files[...])            # the bytes a range GET returns
"""

from collections.abc import Callable

from .checkpoints import ANCHORS, INDEX_FILE, SINGLE_FILE, Replica, all_tensors
from .configs import small_deepseek_config, small_dense_config, small_moe_config
from .families import COMPONENTS, LogicalModel, logical_model
from .headers import (
    DTYPE_BITS, FileImage, Tensor, build_sharded, data_size, declared_file_size, file_prefix,
    header_json, header_tensors, index_json, make_header, nbytes, numel, safetensors_image,
    shard_names, split_into_shards,
)
from .malformed import Malformed, all_malformed
from .variants import OTHER_LAYOUTS, QUANTIZED_VARIANTS, REPO_SHAPES, TINYLLAMA_TOTAL, quantized_exact_shapes

BUILDERS: dict[str, Callable[[], Replica]] = {**ANCHORS, **QUANTIZED_VARIANTS, **OTHER_LAYOUTS, **REPO_SHAPES}


def replica(key: str) -> Replica:
    """The replica registered under ``key`` (see ``BUILDERS``), built once per process."""
    return BUILDERS[key]()


def replica_from_config(repo_id: str, config: dict, *, shards: int = 0) -> Replica:
    """A BF16 replica of any config the family generators know (tiny configs for property tests)."""
    from .checkpoints import _replica
    from .storage import store_plain

    model = logical_model(config)
    return _replica(repo_id, config, model, store_plain(model), shards=shards)


__all__ = [name for name in dir() if not name.startswith("_")]
