"""Which model a quantized repo was made from, by what its listing entry says (pure)."""

from __future__ import annotations

_QUANTIZED_TAG = "base_model:quantized:"
# Tags the Hub or the quantizing tools put on quantized repos (cardData alone also names
# fine-tunes and merges, which are other weights).
_QUANT_TAGS = frozenset(
    {
        "gguf",
        "awq",
        "gptq",
        "mlx",
        "fp8",
        "bitsandbytes",
        "4-bit",
        "8-bit",
        "compressed-tensors",
        "nvfp4",
        "mxfp4",
        "exl2",
        "quantized",
    }
)


def parse_card_base_model(card_data: object) -> str | None:
    """The first ``base_model`` of a model card (a string or a list of them), if it names a repo."""
    value = (
        getattr(card_data, "base_model", None)
        if not isinstance(card_data, dict)
        else card_data.get("base_model")
    )
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value.count("/") == 1 else None


def parse_quantized_base(tags: tuple[str, ...], card_data: object) -> str | None:
    """The base model of a quantized repo: the Hub's ``base_model:quantized:<id>`` tag, else the
    card's ``base_model`` when the repo's tags say it is quantized; None for other repos."""
    for tag in tags:
        if tag.startswith(_QUANTIZED_TAG) and tag.count("/") == 1:
            return tag[len(_QUANTIZED_TAG) :]
    if any(t.lower() in _QUANT_TAGS for t in tags):
        return parse_card_base_model(card_data)
    return None
