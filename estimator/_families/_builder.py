"""The one shared builder: a family's tensor list, named and shaped as its checkpoints store it.

Family modules describe layers with these pieces; the accounting then classifies the list
exactly as it classifies real headers, so both paths share one definition of a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .._config import ModelConfig
from .._safetensors import TensorInfo


class TensorBuilder:
    """Collects synthetic tensors (BF16; only names and shapes matter to the accounting)."""

    def __init__(self) -> None:
        self.tensors: list[TensorInfo] = []

    def add(self, name: str, *shape: int) -> None:
        """Add one tensor; a zero-sized dimension means the tensor does not exist."""
        if all(dim > 0 for dim in shape):
            self.tensors.append(TensorInfo(name, "BF16", tuple(shape)))

    def linear(self, name: str, out: int, inp: int, *, bias: bool = False) -> None:
        """An ``nn.Linear``: ``{name}.weight`` [out, in] and optionally ``{name}.bias`` [out]."""
        self.add(f"{name}.weight", out, inp)
        if bias:
            self.add(f"{name}.bias", out)

    def norm(self, name: str, dim: int, *, bias: bool = False) -> None:
        """A norm's weight (and bias for LayerNorm)."""
        self.add(f"{name}.weight", dim)
        if bias:
            self.add(f"{name}.bias", dim)


@dataclass(frozen=True, slots=True)
class Family:
    """What a family builder reads: the parsed config, the language-model section, the raw file."""

    config: ModelConfig
    text: Mapping[str, object]
    raw: Mapping[str, object]

    def integer(self, key: str, default: int = 0) -> int:
        """An integer field of the language-model section, or ``default``."""
        value = self.text.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            return default
        return int(value)

    def flag(self, key: str, default: bool = False) -> bool:
        """A boolean field of the language-model section, or ``default``."""
        value = self.text.get(key)
        return value if isinstance(value, bool) else default

    def strings(self, key: str) -> tuple[str, ...]:
        """A list-of-strings field, or () when absent."""
        value = self.text.get(key)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, Sequence):
            return tuple(str(v) for v in value)
        return ()

    def ints(self, key: str) -> tuple[int, ...]:
        """A list-of-integers field, or () when absent."""
        value = self.text.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str):
            return tuple(int(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool))
        return ()


def add_embeddings(
    b: TensorBuilder,
    c: ModelConfig,
    *,
    prefix: str = "model",
    norm_bias: bool = False,
    norm_name: str = "norm",
    head_bias: bool = False,
) -> None:
    """Input embedding, final norm and (untied) output head."""
    b.add(f"{prefix}.embed_tokens.weight", c.vocab_size, c.hidden_size)
    b.norm(f"{prefix}.{norm_name}", c.hidden_size, bias=norm_bias)
    add_head(b, c, bias=head_bias)


def add_head(b: TensorBuilder, c: ModelConfig, *, bias: bool = False) -> None:
    """``lm_head`` unless tied to the input embedding."""
    if not c.tie_word_embeddings:
        b.linear("lm_head", c.vocab_size, c.hidden_size, bias=bias)


def add_qkvo(
    b: TensorBuilder,
    prefix: str,
    h: int,
    q_dim: int,
    kv_dim: int,
    *,
    qkv_bias: bool = False,
    o_bias: bool = False,
    o_name: str = "o_proj",
    v: bool = True,
    o_in: int = 0,
) -> None:
    """Separate q/k/v projections plus the output projection."""
    b.linear(f"{prefix}.q_proj", q_dim, h, bias=qkv_bias)
    b.linear(f"{prefix}.k_proj", kv_dim, h, bias=qkv_bias)
    if v:
        b.linear(f"{prefix}.v_proj", kv_dim, h, bias=qkv_bias)
    b.linear(f"{prefix}.{o_name}", h, o_in or q_dim, bias=o_bias)


def add_gated_mlp(b: TensorBuilder, prefix: str, h: int, inter: int, *, bias: bool = False) -> None:
    """SwiGLU-style MLP: gate, up and down projections."""
    b.linear(f"{prefix}.gate_proj", inter, h, bias=bias)
    b.linear(f"{prefix}.up_proj", inter, h, bias=bias)
    b.linear(f"{prefix}.down_proj", h, inter, bias=bias)


def add_fused_experts(b: TensorBuilder, prefix: str, experts: int, h: int, inter: int) -> None:
    """Routed experts as transformers 5 stores them: ``gate_up_proj`` [E, 2I, h], ``down_proj`` [E, h, I]."""
    b.add(f"{prefix}.gate_up_proj", experts, 2 * inter, h)
    b.add(f"{prefix}.down_proj", experts, h, inter)


def add_mla(b: TensorBuilder, c: ModelConfig, prefix: str) -> None:
    """Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2, GLM-5)."""
    m, h, heads = c.mla, c.hidden_size, c.num_heads
    assert m is not None
    q_head = m.qk_nope_head_dim + m.qk_rope_head_dim
    if m.q_lora_rank:
        b.add(f"{prefix}.q_a_proj.weight", m.q_lora_rank, h)
        b.add(f"{prefix}.q_a_layernorm.weight", m.q_lora_rank)
        b.add(f"{prefix}.q_b_proj.weight", heads * q_head, m.q_lora_rank)
    else:
        b.add(f"{prefix}.q_proj.weight", heads * q_head, h)
    b.add(f"{prefix}.kv_a_proj_with_mqa.weight", m.kv_lora_rank + m.qk_rope_head_dim, h)
    b.add(f"{prefix}.kv_a_layernorm.weight", m.kv_lora_rank)
    b.add(f"{prefix}.kv_b_proj.weight", heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank)
    b.add(f"{prefix}.o_proj.weight", h, heads * m.v_head_dim)


def add_sparse_indexer(b: TensorBuilder, f: Family, prefix: str) -> None:
    """DeepSeek sparse attention's lightning indexer (DeepSeek-V3.2, GLM-5): its weights are stored."""
    c = f.config
    heads, dim = f.integer("index_n_heads", 64), f.integer("index_head_dim", 128)
    q_in = c.mla.q_lora_rank if c.mla and c.mla.q_lora_rank else c.hidden_size
    b.linear(f"{prefix}.indexer.wq_b", heads * dim, q_in)
    b.linear(f"{prefix}.indexer.wk", dim, c.hidden_size)
    b.norm(f"{prefix}.indexer.k_norm", dim, bias=True)
    b.linear(f"{prefix}.indexer.weights_proj", heads, c.hidden_size)
