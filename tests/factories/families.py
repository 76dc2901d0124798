"""Logical tensor lists of real model families, named and shaped as transformers saves them.

Each generator reads a config.json dict and returns a ``LogicalModel``: every parameter
tensor in state-dict order, tagged by construction with its component and layer. The tags
come from how the model is built, never from parsing names, so the expected totals,
components and active counts derived here are an independent oracle for the estimator.
Naming follows the checkpoint patterns in docs/reference/hub-protocol.md §5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from .headers import Tensor, numel

EMBEDDING, LM_HEAD, ATTENTION, MLP = "embedding", "lm_head", "attention", "mlp"
SHARED, ROUTED, ROUTER, NORM = "shared_experts", "routed_experts", "router", "norm"
MTP, VISION, OTHER = "mtp", "vision", "other"
COMPONENTS = (EMBEDDING, LM_HEAD, ATTENTION, MLP, SHARED, ROUTED, ROUTER, NORM, MTP, VISION, OTHER)


@dataclass(frozen=True)
class Entry:
    """One logical parameter tensor."""

    name: str
    shape: tuple[int, ...]
    component: str
    layer: int | None = None
    linear: bool = False  # a decoder-layer Linear weight: what quantizers pack
    dtype: str = "BF16"


@dataclass
class LogicalModel:
    """A model's parameters plus the MoE facts needed to compute its active count."""

    entries: list[Entry] = field(default_factory=list)
    num_experts: int = 0
    top_k: int = 0
    shared_experts: int = 0

    def add(self, name: str, shape, component: str, layer: int | None = None, *, linear=False, dtype="BF16"):
        self.entries.append(Entry(name, tuple(shape), component, layer, linear, dtype))

    def tensors(self) -> list[Tensor]:
        return [(e.name, e.dtype, e.shape) for e in self.entries]

    @property
    def total(self) -> int:
        return sum(numel(e.shape) for e in self.entries)

    def components(self) -> dict[str, int]:
        out = dict.fromkeys(COMPONENTS, 0)
        for e in self.entries:
            out[e.component] += numel(e.shape)
        return out

    def routed_by_layer(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for e in self.entries:
            if e.component == ROUTED:
                out[e.layer] = out.get(e.layer, 0) + numel(e.shape)
        return out

    @property
    def tied(self) -> bool:
        c = self.components()
        return c[LM_HEAD] == 0 and c[EMBEDDING] > 0

    @property
    def active(self) -> int:
        """Total − input embedding (unless tied) − MTP − vision − untouched routed experts."""
        c = self.components()
        idle = sum(Fraction(p * (self.num_experts - self.top_k), self.num_experts)
                   for p in self.routed_by_layer().values())
        assert idle.denominator == 1, "routed parameters do not split evenly over experts"
        embed = 0 if self.tied else c[EMBEDDING]
        return self.total - embed - c[MTP] - c[VISION] - int(idle)

    @property
    def moe_layout(self) -> tuple[int, int, int, int] | None:
        """(experts, top-k, shared experts, MoE layers), or None for a dense model."""
        layers = self.routed_by_layer()
        if not layers:
            return None
        return (self.num_experts, self.top_k, self.shared_experts, len(layers))


def _get(cfg: Mapping, key: str, default=None):
    value = cfg.get(key)
    return default if value is None else value


def _head_dim(cfg: Mapping) -> int:
    return _get(cfg, "head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def _attention(m: LogicalModel, p: str, layer, cfg: Mapping, *, qkv_bias=False, o_bias=False,
               qk_norm: str | None = None, sinks=False, component=ATTENTION) -> None:
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    kv, hd = _get(cfg, "num_key_value_heads", nh), _head_dim(cfg)
    for proj, rows in (("q_proj", nh * hd), ("k_proj", kv * hd), ("v_proj", kv * hd)):
        m.add(f"{p}.{proj}.weight", (rows, h), component, layer, linear=True)
        if qkv_bias:
            m.add(f"{p}.{proj}.bias", (rows,), component, layer)
    m.add(f"{p}.o_proj.weight", (h, nh * hd), component, layer, linear=True)
    if o_bias:
        m.add(f"{p}.o_proj.bias", (h,), component, layer)
    if sinks:
        m.add(f"{p}.sinks", (nh,), component, layer)
    norm_component = NORM if component == ATTENTION else component
    if qk_norm == "head":
        m.add(f"{p}.q_norm.weight", (hd,), norm_component, layer)
        m.add(f"{p}.k_norm.weight", (hd,), norm_component, layer)
    elif qk_norm == "full":
        m.add(f"{p}.q_norm.weight", (nh * hd,), norm_component, layer)
        m.add(f"{p}.k_norm.weight", (kv * hd,), norm_component, layer)


def _ffn(m: LogicalModel, p: str, layer, h: int, inter: int, component: str,
         names=("gate_proj", "up_proj", "down_proj")) -> None:
    gate, up, down = names
    m.add(f"{p}.{gate}.weight", (inter, h), component, layer, linear=True)
    m.add(f"{p}.{up}.weight", (inter, h), component, layer, linear=True)
    m.add(f"{p}.{down}.weight", (h, inter), component, layer, linear=True)


def _norms(m: LogicalModel, p: str, layer, h: int, names=("input_layernorm", "post_attention_layernorm"),
           component=NORM) -> None:
    for name in names:
        m.add(f"{p}.{name}.weight", (h,), component, layer)


def _embeddings(m: LogicalModel, cfg: Mapping, prefix="model") -> None:
    m.add(f"{prefix}.embed_tokens.weight", (cfg["vocab_size"], cfg["hidden_size"]), EMBEDDING)


def _head(m: LogicalModel, cfg: Mapping, prefix="model", head="lm_head.weight") -> None:
    m.add(f"{prefix}.norm.weight", (cfg["hidden_size"],), NORM)
    if not _get(cfg, "tie_word_embeddings", False):
        m.add(head, (cfg["vocab_size"], cfg["hidden_size"]), LM_HEAD)


# --- dense and MoE decoders with q/k/v/o attention -------------------------------------------

_QKV_BIAS = {"qwen2", "qwen2_moe"}
_QK_NORM = {"qwen3": "head", "qwen3_moe": "head", "olmoe": "full"}


def _moe_layers(cfg: Mapping) -> set[int]:
    layers = cfg["num_hidden_layers"]
    if cfg.get("moe_layers") is not None:
        return set(cfg["moe_layers"])
    step = _get(cfg, "decoder_sparse_step", 1)
    dense = set(_get(cfg, "mlp_only_layers", []))
    return {i for i in range(layers) if (i + 1) % step == 0 and i not in dense}


def decoder(cfg: Mapping) -> LogicalModel:
    """Llama, Mistral, Qwen2/3, Mixtral, Qwen2/3-MoE and OLMoE checkpoints."""
    kind = cfg["model_type"]
    experts = _get(cfg, "num_local_experts") or _get(cfg, "num_experts") or 0
    m = LogicalModel(num_experts=experts, top_k=_get(cfg, "num_experts_per_tok", 0))
    shared_size = _get(cfg, "shared_expert_intermediate_size", 0)
    m.shared_experts = 1 if shared_size else 0
    h = cfg["hidden_size"]
    moe_layers = _moe_layers(cfg) if experts else set()
    _embeddings(m, cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        _attention(m, f"{p}.self_attn", i, cfg, qkv_bias=kind in _QKV_BIAS, qk_norm=_QK_NORM.get(kind))
        if i not in moe_layers:
            _ffn(m, f"{p}.mlp", i, h, cfg["intermediate_size"], MLP)
        elif kind == "mixtral":
            for e in range(experts):
                _ffn(m, f"{p}.block_sparse_moe.experts.{e}", i, h, cfg["intermediate_size"], ROUTED,
                     names=("w1", "w3", "w2"))
            m.add(f"{p}.block_sparse_moe.gate.weight", (experts, h), ROUTER, i)
        else:
            inter = _get(cfg, "moe_intermediate_size") or cfg["intermediate_size"]
            m.add(f"{p}.mlp.gate.weight", (experts, h), ROUTER, i)
            for e in range(experts):
                _ffn(m, f"{p}.mlp.experts.{e}", i, h, inter, ROUTED)
            if shared_size:
                _ffn(m, f"{p}.mlp.shared_expert", i, h, shared_size, SHARED)
                m.add(f"{p}.mlp.shared_expert_gate.weight", (1, h), ROUTER, i)
        _norms(m, p, i, h)
    _head(m, cfg)
    return m


# --- DeepSeek-V3: MLA attention, dense-then-MoE, shared experts, MTP layer --------------------

def _mla(m: LogicalModel, p: str, layer, cfg: Mapping, component: str) -> None:
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    q_rank, kv_rank = cfg.get("q_lora_rank"), cfg["kv_lora_rank"]
    nope, rope, v = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    norm = NORM if component == ATTENTION else component
    if q_rank:
        m.add(f"{p}.q_a_proj.weight", (q_rank, h), component, layer, linear=True)
        m.add(f"{p}.q_a_layernorm.weight", (q_rank,), norm, layer)
        m.add(f"{p}.q_b_proj.weight", (heads * (nope + rope), q_rank), component, layer, linear=True)
    else:
        m.add(f"{p}.q_proj.weight", (heads * (nope + rope), h), component, layer, linear=True)
    m.add(f"{p}.kv_a_proj_with_mqa.weight", (kv_rank + rope, h), component, layer, linear=True)
    m.add(f"{p}.kv_a_layernorm.weight", (kv_rank,), norm, layer)
    m.add(f"{p}.kv_b_proj.weight", (heads * (nope + v), kv_rank), component, layer, linear=True)
    m.add(f"{p}.o_proj.weight", (h, heads * v), component, layer, linear=True)


def _deepseek_layer(m: LogicalModel, cfg: Mapping, i: int, *, mtp: bool) -> None:
    p, h = f"model.layers.{i}", cfg["hidden_size"]
    experts, moe_inter = cfg["n_routed_experts"], cfg["moe_intermediate_size"]
    pick = (lambda c: MTP) if mtp else (lambda c: c)
    _mla(m, f"{p}.self_attn", i, cfg, pick(ATTENTION))
    # modeling_deepseek_v3: a layer is MoE when idx >= first_k_dense_replace and idx % moe_layer_freq == 0
    if i < _get(cfg, "first_k_dense_replace", 0) or i % _get(cfg, "moe_layer_freq", 1):
        _ffn(m, f"{p}.mlp", i, h, cfg["intermediate_size"], pick(MLP))
    else:
        for e in range(experts):
            _ffn(m, f"{p}.mlp.experts.{e}", i, h, moe_inter, pick(ROUTED))
        m.add(f"{p}.mlp.gate.weight", (experts, h), pick(ROUTER), i)
        m.add(f"{p}.mlp.gate.e_score_correction_bias", (experts,), pick(ROUTER), i, dtype="F32")
        _ffn(m, f"{p}.mlp.shared_experts", i, h, moe_inter * cfg["n_shared_experts"], pick(SHARED))
    _norms(m, p, i, h, component=pick(NORM))


def deepseek_v3(cfg: Mapping) -> LogicalModel:
    """DeepSeek-V3 / R1 as released: 61 layers plus the MTP layer ``model.layers.61``."""
    m = LogicalModel(num_experts=cfg["n_routed_experts"], top_k=cfg["num_experts_per_tok"],
                     shared_experts=cfg["n_shared_experts"])
    h, vocab, layers = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    _embeddings(m, cfg)
    for i in range(layers):
        _deepseek_layer(m, cfg, i, mtp=False)
    _head(m, cfg)
    for i in range(layers, layers + _get(cfg, "num_nextn_predict_layers", 0)):
        p = f"model.layers.{i}"
        m.add(f"{p}.embed_tokens.weight", (vocab, h), MTP, i)
        m.add(f"{p}.enorm.weight", (h,), MTP, i)
        m.add(f"{p}.hnorm.weight", (h,), MTP, i)
        m.add(f"{p}.eh_proj.weight", (h, 2 * h), MTP, i)  # stays BF16 in the FP8 release
        _deepseek_layer(m, cfg, i, mtp=True)
        m.add(f"{p}.shared_head.norm.weight", (h,), MTP, i)
        m.add(f"{p}.shared_head.head.weight", (vocab, h), MTP, i)
    return m


# --- gpt-oss: fused experts (MXFP4 in the release), biases everywhere, attention sinks --------

def gpt_oss(cfg: Mapping) -> LogicalModel:
    """gpt-oss in transformers naming; experts as logical [E, rows, H] tensors."""
    experts, h, inter = cfg["num_local_experts"], cfg["hidden_size"], cfg["intermediate_size"]
    m = LogicalModel(num_experts=experts, top_k=cfg["num_experts_per_tok"])
    _embeddings(m, cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        _norms(m, p, i, h, names=("input_layernorm",))
        _attention(m, f"{p}.self_attn", i, cfg, qkv_bias=True, o_bias=True, sinks=True)
        _norms(m, p, i, h, names=("post_attention_layernorm",))
        m.add(f"{p}.mlp.router.weight", (experts, h), ROUTER, i)
        m.add(f"{p}.mlp.router.bias", (experts,), ROUTER, i)
        m.add(f"{p}.mlp.experts.gate_up_proj", (experts, 2 * inter, h), ROUTED, i, linear=True)
        m.add(f"{p}.mlp.experts.gate_up_proj_bias", (experts, 2 * inter), ROUTED, i)
        m.add(f"{p}.mlp.experts.down_proj", (experts, h, inter), ROUTED, i, linear=True)
        m.add(f"{p}.mlp.experts.down_proj_bias", (experts, h), ROUTED, i)
    _head(m, cfg)
    return m


# --- fused expert tensors: Granite-MoE and Llama 4 --------------------------------------------

def granite_moe(cfg: Mapping) -> LogicalModel:
    """Granite-MoE: ``block_sparse_moe.input_linear`` [E, 2I, H] and ``output_linear`` [E, H, I]."""
    experts, h, inter = cfg["num_local_experts"], cfg["hidden_size"], cfg["intermediate_size"]
    m = LogicalModel(num_experts=experts, top_k=cfg["num_experts_per_tok"])
    _embeddings(m, cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        _attention(m, f"{p}.self_attn", i, cfg)
        m.add(f"{p}.block_sparse_moe.input_linear.weight", (experts, 2 * inter, h), ROUTED, i)
        m.add(f"{p}.block_sparse_moe.output_linear.weight", (experts, h, inter), ROUTED, i)
        m.add(f"{p}.block_sparse_moe.router.layer.weight", (experts, h), ROUTER, i)
        _norms(m, p, i, h)
    _head(m, cfg)
    return m


def llama4_text(cfg: Mapping) -> LogicalModel:
    """Llama 4 text model: ``feed_forward.experts.gate_up_proj`` [E, H, 2I] plus a shared expert."""
    experts, h, inter = cfg["num_local_experts"], cfg["hidden_size"], cfg["intermediate_size"]
    m = LogicalModel(num_experts=experts, top_k=cfg["num_experts_per_tok"], shared_experts=1)
    moe = set(cfg["moe_layers"])
    _embeddings(m, cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        _attention(m, f"{p}.self_attn", i, cfg)
        if i in moe:
            m.add(f"{p}.feed_forward.experts.gate_up_proj", (experts, h, 2 * inter), ROUTED, i)
            m.add(f"{p}.feed_forward.experts.down_proj", (experts, inter, h), ROUTED, i)
            m.add(f"{p}.feed_forward.router.weight", (experts, h), ROUTER, i)
            _ffn(m, f"{p}.feed_forward.shared_expert", i, h, inter, SHARED)
        else:
            _ffn(m, f"{p}.feed_forward", i, h, cfg["intermediate_size_mlp"], MLP)
        _norms(m, p, i, h)
    _head(m, cfg)
    return m


# --- DBRX: flat experts [E·I, H], fused Wqkv, everything under transformer.* ------------------

def dbrx(cfg: Mapping) -> LogicalModel:
    """DBRX: ``ffn.experts.mlp.{w1,v1,w2}`` each [E·I, H]; E only from the router or config."""
    h, heads, layers = cfg["d_model"], cfg["n_heads"], cfg["n_layers"]
    kv, ffn = cfg["attn_config"]["kv_n_heads"], cfg["ffn_config"]
    experts, inter = ffn["moe_num_experts"], ffn["ffn_hidden_size"]
    hd = h // heads
    m = LogicalModel(num_experts=experts, top_k=ffn["moe_top_k"])
    m.add("transformer.wte.weight", (cfg["vocab_size"], h), EMBEDDING)
    for i in range(layers):
        p = f"transformer.blocks.{i}"
        m.add(f"{p}.norm_attn_norm.norm_1.weight", (h,), NORM, i)
        m.add(f"{p}.norm_attn_norm.attn.Wqkv.weight", ((heads + 2 * kv) * hd, h), ATTENTION, i, linear=True)
        m.add(f"{p}.norm_attn_norm.attn.out_proj.weight", (h, h), ATTENTION, i, linear=True)
        m.add(f"{p}.norm_attn_norm.norm_2.weight", (h,), NORM, i)
        m.add(f"{p}.ffn.router.layer.weight", (experts, h), ROUTER, i)
        for w in ("w1", "v1", "w2"):
            m.add(f"{p}.ffn.experts.mlp.{w}", (experts * inter, h), ROUTED, i)
    m.add("transformer.norm_f.weight", (h,), NORM)
    m.add("lm_head.weight", (cfg["vocab_size"], h), LM_HEAD)
    return m


# --- Gemma 3 multimodal: language_model.* + SigLIP vision tower + projector -------------------

def gemma3(cfg: Mapping) -> LogicalModel:
    """Gemma 3 (image-text): tied embeddings, four norms a layer, q/k norms, SigLIP tower."""
    text, vision = cfg["text_config"], cfg["vision_config"]
    m = LogicalModel()
    h = text["hidden_size"]
    m.add("language_model.model.embed_tokens.weight", (text["vocab_size"], h), EMBEDDING)
    four = ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
            "post_feedforward_layernorm")
    for i in range(text["num_hidden_layers"]):
        p = f"language_model.model.layers.{i}"
        _attention(m, f"{p}.self_attn", i, text, qk_norm="head")
        _ffn(m, f"{p}.mlp", i, h, text["intermediate_size"], MLP)
        _norms(m, p, i, h, names=four)
    m.add("language_model.model.norm.weight", (h,), NORM)
    _siglip(m, vision, h)
    return m


def _siglip(m: LogicalModel, v: Mapping, text_hidden: int) -> None:
    h, inter, patch = v["hidden_size"], v["intermediate_size"], v["patch_size"]
    p = "vision_tower.vision_model"
    m.add(f"{p}.embeddings.patch_embedding.weight", (h, v.get("num_channels", 3), patch, patch), VISION)
    m.add(f"{p}.embeddings.patch_embedding.bias", (h,), VISION)
    m.add(f"{p}.embeddings.position_embedding.weight", ((v["image_size"] // patch) ** 2, h), VISION)
    for i in range(v["num_hidden_layers"]):
        lp = f"{p}.encoder.layers.{i}"
        m.add(f"{lp}.layer_norm1.weight", (h,), VISION)
        m.add(f"{lp}.layer_norm1.bias", (h,), VISION)
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            m.add(f"{lp}.self_attn.{proj}.weight", (h, h), VISION)
            m.add(f"{lp}.self_attn.{proj}.bias", (h,), VISION)
        m.add(f"{lp}.layer_norm2.weight", (h,), VISION)
        m.add(f"{lp}.layer_norm2.bias", (h,), VISION)
        m.add(f"{lp}.mlp.fc1.weight", (inter, h), VISION)
        m.add(f"{lp}.mlp.fc1.bias", (inter,), VISION)
        m.add(f"{lp}.mlp.fc2.weight", (h, inter), VISION)
        m.add(f"{lp}.mlp.fc2.bias", (h,), VISION)
    m.add(f"{p}.post_layernorm.weight", (h,), VISION)
    m.add(f"{p}.post_layernorm.bias", (h,), VISION)
    m.add("multi_modal_projector.mm_input_projection_weight", (h, text_hidden), VISION)
    m.add("multi_modal_projector.mm_soft_emb_norm.weight", (h,), VISION)


_GENERATORS = {
    "llama": decoder, "mistral": decoder, "qwen2": decoder, "qwen3": decoder, "mixtral": decoder,
    "qwen2_moe": decoder, "qwen3_moe": decoder, "olmoe": decoder, "deepseek_v3": deepseek_v3,
    "gpt_oss": gpt_oss, "granitemoe": granite_moe, "llama4_text": llama4_text, "dbrx": dbrx,
    "gemma3": gemma3,
}


def logical_model(cfg: Mapping) -> LogicalModel:
    """The logical parameters of any family above, chosen by ``model_type``."""
    return _GENERATORS[cfg["model_type"]](cfg)
