"""Pre-Llama layouts still in use: GPT-NeoX (Pythia), Phi-1/2, Falcon, StarCoder2.

LayerNorm with biases, fused or biased projections and plain two-matrix MLPs, as each
family's transformers ``modeling_*.py`` builds them.
"""

from __future__ import annotations

from ._builder import Family, TensorBuilder, add_head, add_qkvo


def build_gpt_neox(f: Family, b: TensorBuilder) -> None:
    """GPT-NeoX / Pythia: fused query_key_value, LayerNorms with bias, untied ``embed_out``."""
    c = f.config
    h, inter, bias = c.hidden_size, c.intermediate_size or 4 * c.hidden_size, f.flag("attention_bias", True)
    b.add("gpt_neox.embed_in.weight", c.vocab_size, h)
    for i in range(c.num_layers):
        p = f"gpt_neox.layers.{i}"
        b.norm(f"{p}.input_layernorm", h, bias=True)
        b.norm(f"{p}.post_attention_layernorm", h, bias=True)
        b.linear(f"{p}.attention.query_key_value", 3 * h, h, bias=bias)
        b.linear(f"{p}.attention.dense", h, h, bias=bias)
        b.linear(f"{p}.mlp.dense_h_to_4h", inter, h, bias=True)
        b.linear(f"{p}.mlp.dense_4h_to_h", h, inter, bias=True)
    b.norm("gpt_neox.final_layer_norm", h, bias=True)
    add_head(b, c)


def build_phi(f: Family, b: TensorBuilder) -> None:
    """Phi-1/1.5/2: one LayerNorm per layer (parallel attention and MLP), biases everywhere."""
    c = f.config
    h, inter = c.hidden_size, c.intermediate_size or 4 * c.hidden_size
    b.add("model.embed_tokens.weight", c.vocab_size, h)
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        b.norm(f"{p}.input_layernorm", h, bias=True)
        add_qkvo(
            b,
            f"{p}.self_attn",
            h,
            c.num_heads * c.head_dim,
            c.num_kv_heads * c.head_dim,
            qkv_bias=True,
            o_bias=True,
            o_name="dense",
        )
        if f.flag("qk_layernorm"):
            b.norm(f"{p}.self_attn.q_layernorm", c.head_dim, bias=True)
            b.norm(f"{p}.self_attn.k_layernorm", c.head_dim, bias=True)
        b.linear(f"{p}.mlp.fc1", inter, h, bias=True)
        b.linear(f"{p}.mlp.fc2", h, inter, bias=True)
    b.norm("model.final_layernorm", h, bias=True)
    add_head(b, c, bias=True)


def build_falcon(f: Family, b: TensorBuilder) -> None:
    """Falcon 7B/40B/180B: multi-query or grouped fused QKV, parallel attention, bias per config."""
    c = f.config
    h, heads, head_dim = c.hidden_size, c.num_heads, c.hidden_size // c.num_heads
    bias, inter = f.flag("bias"), f.integer("ffn_hidden_size") or 4 * h
    new_arch = f.flag("new_decoder_architecture")
    if new_arch:
        qkv = (2 * c.num_kv_heads + heads) * head_dim
    elif f.flag("multi_query", True):
        qkv = h + 2 * head_dim
    else:
        qkv = 3 * h
    norms = _falcon_norms(f, new_arch)
    b.add("transformer.word_embeddings.weight", c.vocab_size, h)
    for i in range(c.num_layers):
        p = f"transformer.h.{i}"
        for norm in norms:
            b.norm(f"{p}.{norm}", h, bias=True)
        b.linear(f"{p}.self_attention.query_key_value", qkv, h, bias=bias)
        b.linear(f"{p}.self_attention.dense", h, h, bias=bias)
        b.linear(f"{p}.mlp.dense_h_to_4h", inter, h, bias=bias)
        b.linear(f"{p}.mlp.dense_4h_to_h", h, inter, bias=bias)
    b.norm("transformer.ln_f", h, bias=True)
    add_head(b, c)


def _falcon_norms(f: Family, new_arch: bool) -> tuple[str, ...]:
    if not f.flag("parallel_attn", True):
        return ("input_layernorm", "post_attention_layernorm")
    norms_in_parallel = f.integer("num_ln_in_parallel_attn") or (2 if new_arch else 1)
    if new_arch and norms_in_parallel == 2:
        return ("ln_attn", "ln_mlp")
    return ("input_layernorm",)


def build_starcoder2(f: Family, b: TensorBuilder) -> None:
    """StarCoder2: GQA with biases (``use_bias``), LayerNorms with bias, c_fc/c_proj MLP."""
    c = f.config
    h, inter, bias = c.hidden_size, c.intermediate_size or 4 * c.hidden_size, f.flag("use_bias", True)
    b.add("model.embed_tokens.weight", c.vocab_size, h)
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        b.norm(f"{p}.input_layernorm", h, bias=True)
        b.norm(f"{p}.post_attention_layernorm", h, bias=True)
        add_qkvo(
            b,
            f"{p}.self_attn",
            h,
            c.num_heads * c.head_dim,
            c.num_kv_heads * c.head_dim,
            qkv_bias=bias,
            o_bias=bias,
        )
        b.linear(f"{p}.mlp.c_fc", inter, h, bias=bias)
        b.linear(f"{p}.mlp.c_proj", h, inter, bias=bias)
    b.norm("model.norm", h, bias=True)
    add_head(b, c)


BUILDERS = {
    "gpt_neox": build_gpt_neox,
    "phi": build_phi,
    "falcon": build_falcon,
    "starcoder2": build_starcoder2,
}
