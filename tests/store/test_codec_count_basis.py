"""The accounting's count basis survives the SQLite JSON boundary."""

from __future__ import annotations

import estimator
from store._codec import decode_accounting, encode_accounting


def test_needs_headers_round_trips():
    """An undescribed family stays marked 'counts need the headers' after encode and decode."""
    config = {"model_type": "brand_new_arch", "hidden_size": 64, "num_hidden_layers": 2,
              "num_attention_heads": 4, "vocab_size": 128, "intermediate_size": 96}
    accounting = estimator.account_from_config(config)
    decoded = decode_accounting(encode_accounting(accounting))
    assert decoded.count_basis == estimator.CountBasis.NEEDS_HEADERS
    assert not decoded.counts_known


def test_rows_without_count_basis_read_as_exact():
    """Rows written before the field existed decode as exact (they were header or described-family counts)."""
    config = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
              "num_attention_heads": 4, "vocab_size": 128, "intermediate_size": 96}
    text = encode_accounting(estimator.account_from_config(config)).replace(',"count_basis":"exact"', "")
    assert "count_basis" not in text
    assert decode_accounting(text).counts_known
