"""`fitbot ask` in plain words: the model and the budget found in a sentence, routed to the right command.

The sentences go through the real CLI against the bundled catalog; what each is read as is checked against
the estimator's own budget parser and the catalog's own name resolution, not against strings of ours.
"""

import re

import pytest
from click.testing import CliRunner

from bot._ask_sentence import AskRoute, ModelMatch, read_question
from bot.cli import main
from bot.errors import CommandParseError
from estimator import KvCacheType, parse_budget, parse_context

# sentence, command, model text expected in "Read as", repo id in the answer, budget text, extra flags
SENTENCES = [
    ("can I run deepseek r1 on a 4090", "fit", "deepseek r1", "deepseek-ai/DeepSeek-R1", "4090", ()),
    ("will qwen2.5 32b fit in 24gb", "fit", "qwen2.5 32b", "Qwen/Qwen2.5-32B-Instruct", "24gb", ()),
    ("Will Qwen2.5 32B fit in 24GB?", "fit", "qwen2.5 32b", "Qwen/Qwen2.5-32B-Instruct", "24gb", ()),
    (
        "llama 3.1 8b on my macbook m3 pro 18gb",
        "fit",
        "llama 3.1 8b",
        "meta-llama/Llama-3.1-8B-Instruct",
        "m3 pro 18gb",
        (),
    ),
    (
        "can i run the new deepseek r1 on 2x3090",
        "fit",
        "deepseek r1",
        "deepseek-ai/DeepSeek-R1",
        "2x3090",
        (),
    ),
    ("gpt-oss 120b on a dgx spark", "fit", "gpt-oss 120b", "openai/gpt-oss-120b", "dgx spark", ()),
    (
        "qwen3 30b a3b on a 3060 with 32k context",
        "fit",
        "qwen3 30b a3b",
        "Qwen/Qwen3-30B-A3B",
        "3060",
        ("--context 32768",),
    ),
    (
        "will llama 3.3 70b run on 2 3090s with q8_0 kv cache",
        "fit",
        "llama 3.3 70b",
        "meta-llama/Llama-3.3-70B-Instruct",
        "2x 3090",
        ("--kv-cache q8_0",),
    ),
    ("gemma 3 27b on a colab t4", "fit", "gemma 3 27b", "google/gemma-3-27b-it", "colab t4", ()),
    ("deepseek v3 on cpu only", "fit", "deepseek v3", "deepseek-ai/DeepSeek-V3", "cpu only", ()),
    ("qwen2.5 72b on three p40s", "fit", "qwen2.5 72b", "Qwen/Qwen2.5-72B-Instruct", "3x p40", ()),
    (
        "can my 128GB mac run llama 3.3 70b",
        "fit",
        "llama 3.3 70b",
        "meta-llama/Llama-3.3-70B-Instruct",
        "128gb mac",
        (),
    ),
    ("qwen3 32b with 64gb ram and no gpu", "fit", "qwen3 32b", "Qwen/Qwen3-32B", "64gb ram and no gpu", ()),
    ("deepseek v3 without a gpu", "fit", "deepseek v3", "deepseek-ai/DeepSeek-V3", "without a gpu", ()),
    (
        "llama 3.3 70b on a mac studio 192",
        "fit",
        "llama 3.3 70b",
        "meta-llama/Llama-3.3-70B-Instruct",
        "mac studio 192",
        (),
    ),
    (
        "qwen2.5 coder 32b on a 7900 xtx",
        "fit",
        "qwen2.5 coder 32b",
        "Qwen/Qwen2.5-Coder-32B-Instruct",
        "7900 xtx",
        (),
    ),
    (
        "qwen2.5 32b on 2 3090s and 2 4090s",
        "fit",
        "qwen2.5 32b",
        "Qwen/Qwen2.5-32B-Instruct",
        "2x 3090 and 2x 4090",
        (),
    ),
    (
        "Qwen/Qwen2.5-32B-Instruct on 24GB",
        "fit",
        "Qwen/Qwen2.5-32B-Instruct",
        "Qwen/Qwen2.5-32B-Instruct",
        "24gb",
        (),
    ),
    ("what can I run on a 3060", "rank", None, None, "3060", ()),
    ("what can I run on 64GB RAM", "rank", None, None, "64gb ram", ()),
    ("what's the best model for coding on a 4090", "rank", None, None, "4090", ("--use code",)),
    ("best coding model for 24gb", "rank", None, None, "24gb", ("--use code",)),
    ("how big is deepseek v3", "model", "deepseek v3", "deepseek-ai/DeepSeek-V3", None, ()),
    ("tell me about qwen3 30b a3b", "model", "qwen3 30b a3b", "Qwen/Qwen3-30B-A3B", None, ()),
]


def ask(db_path, text):
    return CliRunner().invoke(main, ["--db", str(db_path), "ask", text])


@pytest.mark.parametrize(("sentence", "command", "model", "repo", "budget", "flags"), SENTENCES)
def test_plain_question_is_read_as_the_command_it_asks(
    db_path, sentence, command, model, repo, budget, flags
):
    """Each sentence is answered by the command it asks for, with the model and budget found in it."""
    result = ask(db_path, sentence)
    assert result.exit_code == 0, result.output
    read_as = result.output.splitlines()[0]
    assert read_as.startswith(f"Read as: fitbot {command} ")
    for part in (model, budget, *flags):
        if part is not None:
            assert part in read_as
    if repo is not None:
        assert f"\n{repo} " in result.output or f"\n{repo}\n" in result.output
    if command == "fit":  # the answer's title names the hardware the estimator's parser reads in the budget
        device = parse_budget(budget).devices[0]
        assert (device.gpu.name if device.gpu else "CPU only" if device.cpu else "GiB") in result.output


def test_plain_fit_question_answers_as_the_fit_command(db_path):
    """After its "Read as" line, a plain question prints exactly what the command it was read as prints."""
    plain = ask(db_path, "will qwen2.5 32b fit in 24gb").output
    command = CliRunner().invoke(main, ["--db", str(db_path), "fit", "qwen2.5 32b", "24gb"]).output
    assert plain == 'Read as: fitbot fit "qwen2.5 32b" 24gb\n\n' + command


def test_what_can_i_run_lists_what_rank_lists(db_path):
    """ "what can I run on a 3060" prints the `fitbot rank 3060` list."""
    plain = ask(db_path, "what can I run on a 3060").output
    rank = CliRunner().invoke(main, ["--db", str(db_path), "rank", "3060"]).output
    assert plain == "Read as: fitbot rank 3060\n\n" + rank


@pytest.mark.parametrize(
    ("sentence", "term"),
    [("what is a kv cache", "kv-cache"), ("define moe", "moe"), ("what does q4_k_m mean", "q4_k_m")],
)
def test_term_questions_go_to_define(db_path, sentence, term):
    """ "what is a kv cache" is answered by the glossary entry, as `fitbot define` answers it."""
    result = ask(db_path, sentence)
    assert result.exit_code == 0
    define = CliRunner().invoke(main, ["--db", str(db_path), "define", term]).output
    assert define in result.output


@pytest.mark.parametrize(
    ("sentence", "needle"),
    [
        ("can I run qwen5 999b on a 4090", "no model in the catalog is called 'qwen5 999b'"),
        ("hello there", 'fitbot ask "can I run qwen2.5 32b on a 4090"'),
        ("what can I run", "cannot find a model, a GPU or a term"),
    ],
)
def test_sentence_without_a_model_says_what_to_type(db_path, sentence, needle):
    """No recognisable model: exit 2 and one line on stderr that shows a question to type instead."""
    result = ask(db_path, sentence)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_command_syntax_still_works_without_a_slash(db_path):
    """`fitbot ask "fit qwen2.5-32b 24GB"` is the command, not a sentence: no "Read as" line."""
    with_slash = ask(db_path, "/fit qwen2.5-32b 24GB").output
    assert ask(db_path, "fit qwen2.5-32b 24GB").output == with_slash
    assert not with_slash.startswith("Read as")


# The pure reader, with a catalog of three names (a plain function, not a mock).
CATALOG = {"deepseek r1": "deepseek-ai/DeepSeek-R1", "qwen3 8b": "Qwen/Qwen3-8B", "qwen3": "Qwen/Qwen3-8B"}


def find_model(span):
    repo = CATALOG.get(span)
    return ModelMatch(repo, True) if repo else None


def find_term(span):
    return "moe" if span in ("moe", "mixture of experts") else None


def test_reader_prefers_the_name_that_keeps_every_number():
    """ "qwen3 8b" wins over the shorter exact "qwen3": a number left out would name another model."""
    question = read_question("can I run qwen3 8b on a 4090", find_model, find_term)
    assert question.route is AskRoute.FIT and question.model == "qwen3 8b"
    assert question.budget == parse_budget("4090")


def test_reader_takes_context_and_kv_cache_out_before_the_budget():
    """ "128k context" and "q4_0 kv" are read by the estimator's own parsers, not as a budget or a name."""
    question = read_question(
        "deepseek r1 on 8x h100 at 128k context with kv cache q4_0", find_model, find_term
    )
    assert question.context == parse_context("128k")
    assert question.kv_cache is KvCacheType.Q4_0
    assert question.budget == parse_budget("8x h100")
    assert question.model == "deepseek r1"


def test_bare_numbers_are_not_budgets():
    """ "3.1" and "8" parse as sizes, but a sentence's bare number belongs to the model name."""
    question = read_question("tell me about qwen3 8", find_model, find_term)
    assert question.route is AskRoute.MODEL and question.budget is None


def test_reader_refuses_an_empty_sentence():
    """Nothing to read: the error shows example questions."""
    with pytest.raises(CommandParseError, match=re.escape('"what can I run on a 3060"')):
        read_question("  ?? ", find_model, find_term)
