"""Exact weights of a GGUF file by llama.cpp's placement, from its tensor table."""

from __future__ import annotations

from estimator import layout_gguf_weights, parse_gguf_bytes, parse_gguf_facts
from tests.factories.gguf_files import dense_spec, gguf_bytes, tensor_nbytes

EXPERTS = [(f"blk.{i}.ffn_{p}_exps.weight", "Q4_K", (256, 128, 8)) for i in range(2) for p in ("gate", "up")] + \
    [(f"blk.{i}.ffn_down_exps.weight", "Q6_K", (256, 256, 8)) for i in range(2)] + \
    [("blk.2.nextn.eh_proj.weight", "Q8_0", (512, 256))]


def _spec(tied: bool = False):
    return dense_spec(extra_tensors=EXPERTS, tied=tied)


def test_layers_experts_embedding_and_head_are_placed_exactly():
    """Each block's bytes, its _exps part (--n-cpu-moe), token_embd (host) and output add to the tensor data."""
    spec = _spec()
    header = parse_gguf_bytes(gguf_bytes(spec))
    layout = layout_gguf_weights(header.tensors, 2, "Q4_K_M")
    by_name = {name: tensor_nbytes(t, shape) for name, t, shape in spec.tensors}
    for layer in range(2):
        prefix = f"blk.{layer}."
        assert layout.per_layer[layer] == sum(n for k, n in by_name.items() if k.startswith(prefix))
        assert layout.per_layer_experts[layer] == sum(n for k, n in by_name.items()
                                                      if k.startswith(prefix) and "_exps." in k)
    assert layout.embedding == by_name["token_embd.weight"] and layout.output == by_name["output.weight"]
    assert layout.other == by_name["output_norm.weight"] + by_name["blk.2.nextn.eh_proj.weight"]
    assert layout.total == header.tensor_bytes == parse_gguf_facts((header,)).tensor_bytes


def test_mtp_blocks_are_not_loaded():
    """nextn (MTP) blocks past the main layers are left out of what llama.cpp loads, and only they are."""
    spec = _spec()
    header = parse_gguf_bytes(gguf_bytes(spec))
    loaded = layout_gguf_weights(header.tensors, 2, "Q4_K_M", skip_blocks_from=2)
    mtp = tensor_nbytes("Q8_0", (512, 256))
    assert loaded.total == header.tensor_bytes - mtp
    assert loaded.other == layout_gguf_weights(header.tensors, 2, "Q4_K_M").other - mtp


def test_a_tied_head_is_loaded_twice():
    """Without output.weight llama.cpp uses token_embd as the head too: the layout counts that second copy."""
    header = parse_gguf_bytes(gguf_bytes(_spec(tied=True)))
    layout = layout_gguf_weights(header.tensors, 2, "Q4_K_M")
    assert layout.output == layout.embedding > 0
    assert layout.total == header.tensor_bytes + layout.embedding
