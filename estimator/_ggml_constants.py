"""llama.cpp's ggml type table and GGUF key names, from its own ``gguf`` package, loaded alone.

``import gguf`` runs the package's ``__init__``, which also loads its reader, writer, vocab and
metadata modules and with them numpy, sentencepiece, mistral_common and yaml: about 200 ms of every
``fitbot fit`` (``python -X importtime``), where the estimator needs only ``gguf/constants.py``. That
file imports nothing beyond the standard library, so it is loaded here as the module
``gguf.constants`` itself: a later ``import gguf`` (tests, the GGUF writer) reuses this very module,
so the enums stay one and the same.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["GGML_QUANT_SIZES", "GGMLQuantizationType", "GGUFValueType", "Keys", "LlamaFileType"]

_NAME = "gguf.constants"


def _constants() -> ModuleType:
    """``gguf.constants``, without running ``gguf/__init__.py``."""
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("gguf")  # finds the package without importing it
    if package is None or not package.submodule_search_locations:
        raise ImportError("the gguf package (llama.cpp's gguf-py) is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "constants.py"
    spec = importlib.util.spec_from_file_location(_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_NAME]
        raise
    return module


if TYPE_CHECKING:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType, Keys, LlamaFileType
else:
    _module = _constants()
    GGML_QUANT_SIZES = _module.GGML_QUANT_SIZES
    GGMLQuantizationType = _module.GGMLQuantizationType
    GGUFValueType = _module.GGUFValueType
    Keys = _module.Keys
    LlamaFileType = _module.LlamaFileType
