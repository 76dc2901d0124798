"""Shared vocabulary of the recommendation policy (``_advice``): its thresholds, the quant classes it
ranks by, the ``Recommendation`` record and the hardware wording every pick ends with."""

from __future__ import annotations

from dataclasses import dataclass

from ._budget import Budget
from ._fit import FitReport, ModelFacts, OffloadPlan, QuantOption
from ._runtime import Runtime

RUNS_FROM_DISK = "runs_from_disk"
# About reading speed: below ~5 tokens/s people wait for the text instead of reading along.
USABLE_TOKENS_PER_S = 5.0
HEADROOM = 0.05  # the desktop, browser and driver also use VRAM
LOW_BIT_QUANTS = frozenset(
    {
        "Q3_K_L",
        "Q3_K_M",
        "Q3_K_S",
        "IQ3_XXS",
        "IQ3_XS",
        "IQ3_S",
        "IQ3_M",
        "Q2_K",
        "Q2_K_S",
        "IQ2_XXS",
        "IQ2_XS",
        "IQ2_S",
        "IQ2_M",
        "IQ1_S",
        "IQ1_M",
        "TQ1_0",
        "TQ2_0",
    }
)
ABOVE_Q8 = frozenset({"BF16", "F16", "F32"})
COMMUNITY_DEFAULT = "Q4_K_M"
NATIVE_GGUF = {"mxfp4": "MXFP4_MOE"}  # checkpoint quantization -> the GGUF type that keeps it as is
# ollama sets aside 457 MiB on every non-Metal GPU, CUDA, ROCm and oneAPI alike
# (DeviceInfo.MinimumMemory in ml/device.go; cudaMinimumMemory = rocmMinimumMemory before it).
RESERVE_WORDING = "457 MiB runtime reserve per GPU (ollama's figure for every non-Metal GPU)"


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The pick, how it runs, and the command that runs it."""

    quant: str
    file: str | None  # the GGUF file, once the files feature knows it
    runtime: Runtime
    context: int
    max_context: int
    kv_cache: str
    offload: OffloadPlan | None
    decode_tokens_per_s: float | None
    verdict: str  # fits / fits_reduced_context / needs_offload / runs_from_disk / does_not_fit
    launch: tuple[tuple[str, str], ...]  # (runtime or "ollama", command line)
    notes: tuple[str, ...]
    native_context: int | None = None
    rope_scale: float | None = None  # YaRN factor needed beyond the native context
    host_ram: tuple[tuple[str, int], ...] = ()  # llama.cpp's system-RAM use, item by item
    tensor_parallel: int = 1
    gpu_bytes: int | None = None  # what the pick puts on the GPUs (llama.cpp, all on the GPU), against...
    capacity_bytes: int | None = None  # ...the memory the GPUs may use

    @property
    def launch_map(self) -> dict[str, str]:
        return dict(self.launch)


@dataclass(frozen=True, slots=True)
class Question:
    """What every rule of the advice reads: the model and its repo, the budget (a bare size given the
    card its speed assumes), the report at the target context, and what the user asked for."""

    model: ModelFacts
    repo_id: str
    budget: Budget
    base: FitReport
    kv_type: str | None  # named by the user; None lets the advice choose
    context_asked: bool
    flash_attention: bool
    rope_scale: float | None  # YaRN factor needed beyond the native context
    real_files: tuple[tuple[str, str], ...] = ()  # (quant, file) of GGUF files known on the Hub

    def file_for(self, quant: str) -> str | None:
        """The real GGUF file of ``quant`` (the first given: the caller lists the most downloaded first)."""
        return next((file for name, file in self.real_files if name == quant), None)

    @property
    def target(self) -> int:
        """The context the advice aims for: the asked one, else the default."""
        return self.base.context


def hardware_wording(budget: Budget) -> str:
    """The llama.cpp back end the budget implies, and the reserve it pays, for notes and footers."""
    if budget.cpu_only:
        return "llama.cpp on the CPU"
    vendors = {d.gpu.vendor for d in budget.devices if d.gpu}
    if vendors == {"apple"}:
        return "llama.cpp (Metal) or MLX; no CUDA reserve (unified memory)"
    backend = {
        frozenset({"amd"}): "llama.cpp built for ROCm (HIP) or Vulkan",
        frozenset({"intel"}): "llama.cpp built for SYCL or Vulkan",
        frozenset({"nvidia"}): "llama.cpp (CUDA)",
    }.get(frozenset(vendors), "llama.cpp (CUDA, ROCm or Vulkan)")
    if budget.unified:
        return f"{backend} on unified memory; no reserve beyond the GPU's share of memory"
    return f"{backend}; {RESERVE_WORDING}"


def headroom(option: QuantOption) -> float:
    capacity = sum(d.capacity_bytes for d in option.devices)
    return 1 - option.total_bytes / capacity if capacity else 0.0


def speed_text(speed: float | None) -> str:
    if not speed:
        return ""
    return f" at ~{speed:.0f} tok/s" if speed >= 10 else f" at ~{speed:.1f} tok/s"
