"""fitbot's estimator: exact parameter accounting and memory estimates, with no I/O.

Everything here works on bytes, dicts and records handed in by the caller; nothing reads
files, the network, the environment or the clock.
"""

from ._accounting import CONFIG, HEADER, Components, MoeLayout, ParamAccounting, TensorGroup, account_from_tensors
from ._budget import (
    READ_AS_BYTES,
    READ_AS_GIB,
    READ_AS_GPU,
    READ_AS_MIB,
    READ_AS_VENDOR_GB,
    Budget,
    Device,
    find_gpu,
    gpu_by_key,
    parse_budget,
    suggest_gpus,
)
from ._context import MAX_CONTEXT, parse_context
from ._config import MlaDims, ModelConfig, MoeConfig, QuantConfig, parse_model_config
from ._fit import (
    ASSUMED_SYSTEM_RAM_BYTES,
    DEFAULT_CONTEXT,
    DOES_NOT_FIT,
    FITS,
    FITS_REDUCED_CONTEXT,
    MIN_USEFUL_CONTEXT,
    NEEDS_OFFLOAD,
    DeviceUse,
    FitReport,
    ModelFacts,
    OffloadPlan,
    QuantOption,
    default_quants,
    estimate_fit,
)
from ._explain import Explanation, Term, explain_option
from ._from_config import account_from_config, supported_model_types
from ._gpu_spec import GpuSpec
from ._gpu_table import GPU_TABLE
from ._kv_cache import KV_TYPES, KvCacheType, estimate_kv_cache_bytes, kv_bytes_per_token, parse_kv_type
from ._runtime import LLAMA_CPP_PROFILE, TRANSFORMERS_PROFILE, RuntimeProfile, estimate_compute_buffers
from ._safetensors import (
    INDEX_FILE,
    SINGLE_FILE,
    SafetensorsHeader,
    SafetensorsIndex,
    TensorInfo,
    parse_header_length,
    parse_header_object,
    parse_safetensors_file,
    parse_safetensors_header,
    parse_safetensors_index,
    select_checkpoint_files,
)
from ._units import GB, GIB, MB, MIB
from ._weights import QUANT_NAMES, STORED, WeightLayout, layout_weights, parse_quant
from .errors import (
    BudgetParseError,
    ConfigError,
    ContextParseError,
    FitbotError,
    HeaderParseError,
    InputError,
    QuantParseError,
    UnknownDtypeError,
    UnknownGpuError,
)

__all__ = [name for name in dir() if not name.startswith("_")]
