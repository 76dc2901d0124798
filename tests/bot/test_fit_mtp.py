"""/fit speculative:mtp — the MTP draft offered in the command table, on the terminal and through `ask`."""

import json

from click.testing import CliRunner

from bot.cli import main


def run(db_path, *args):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], catch_exceptions=False)


def test_speculative_mtp_adds_the_draft_to_every_row(db_path):
    """With --speculative mtp every row's weights grow (the NextN layer) and the answer says why."""
    plain = json.loads(run(db_path, "fit", "deepseek v3", "8x H100", "--context", "32k", "--json").output)
    result = run(db_path, "fit", "deepseek v3", "8x H100", "--context", "32k", "--speculative", "mtp", "--json")
    drafted = json.loads(result.output)
    before = {o["quant"]: o for o in plain["options"]}
    for option in drafted["options"]:
        assert option["weights_bytes"] > before[option["quant"]]["weights_bytes"]
    text = run(db_path, "fit", "deepseek v3", "8x H100", "--context", "32k", "--speculative", "mtp").output
    assert "MTP draft" in text and "32,768 tokens" in text


def test_hybrid_mtp_draft_names_llama_cpp_rollback_states(db_path):
    """A hybrid model's draft answer says llama.cpp keeps a recurrent-state copy per drafted token
    (llama_cparams.n_rs_seq; a published log shows 7 x 149.62 MiB with 6 drafted tokens for a 27B)."""
    text = run(db_path, "fit", "qwen3.6-27b", "24GB", "--speculative", "mtp").output
    assert "one recurrent-state copy per drafted token" in text and "149.6 MiB each" in text
    dense = run(db_path, "fit", "deepseek v3", "8x H100", "--speculative", "mtp").output
    assert "recurrent-state copy" not in dense


def test_speculative_off_is_the_plain_fit(db_path):
    """--speculative off answers exactly as no option at all."""
    plain = run(db_path, "fit", "deepseek v3", "8x H100", "--json").output
    assert run(db_path, "fit", "deepseek v3", "8x H100", "--speculative", "off", "--json").output == plain


def test_speculative_mtp_for_a_model_without_mtp_is_a_one_line_error(db_path):
    """A Llama has no MTP layers: the error says so and what to type instead."""
    result = CliRunner().invoke(main, ["--db", str(db_path), "fit", "llama 3.1 8b", "24GB", "--speculative", "mtp"])
    assert result.exit_code != 0
    assert "no multi-token-prediction" in result.output and "speculative:mtp" in result.output


def test_ask_reads_the_named_option(db_path):
    """`fitbot ask "/fit 'deepseek v3' '8x H100' speculative:mtp"` gives the drafted answer."""
    result = run(db_path, "ask", "/fit 'deepseek v3' '8x H100' speculative:mtp")
    assert result.exit_code == 0 and "MTP draft" in result.output
