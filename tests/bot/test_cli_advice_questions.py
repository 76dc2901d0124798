"""bench.advice_questions: issue 12's questions, their headlines, and the before/after table."""

import re

from click.testing import CliRunner

from bench.advice_questions import QUESTIONS, Answer, headline, table
from bot.cli import main


def answer(db_path, *args):
    result = CliRunner().invoke(main, ["--db", str(db_path), *args])
    return Answer(result.exit_code, result.stdout, result.stderr)


def test_issue_budgets_and_forms_are_all_asked():
    """Every budget typed in issue 12 §2, and the rank and ask forms, are among the questions."""
    asked = {q.args[2] for q in QUESTIONS if q.args[0] == "fit"}
    for budget in ("64GB RAM", "no gpu", "cpu only", "128GB mac", "mac studio 192", "M4 Max", "P40", "P100",
                   "MI50", "MI60", "RX 6700 XT", "RX 6800", "RTX 5060 Ti 16GB", "colab t4", "strix halo",
                   "dgx spark"):  # fmt: skip
        assert budget in asked
    assert {q.args[0] for q in QUESTIONS} >= {"fit", "rank", "ask"}


def test_fit_headline_is_its_best_choice_line(db_path):
    """A fit's headline is the answer's own "Best choice" line."""
    fit = answer(db_path, "fit", "qwen2.5-32b", "24GB")
    best = next(line for line in fit.stdout.splitlines() if line.startswith("Best choice"))
    assert headline(fit) == best


def test_plain_question_headline_names_the_command_it_ran(db_path):
    """An ask in plain words shows the command it was read as, then that command's headline."""
    asked = answer(db_path, "ask", "will qwen2.5 32b fit in 24gb")
    assert headline(asked) == 'fitbot fit "qwen2.5 32b" 24gb → ' + headline(
        answer(db_path, "fit", "qwen2.5 32b", "24gb")
    )


def test_error_headline_is_the_one_line_message(db_path):
    """A refused question shows its exit code and the one-line message from stderr."""
    refused = answer(db_path, "fit", "qwen2.5-32b", "24 gigs")
    assert headline(refused) == f"exit 2: {refused.stderr.strip()}"


def test_table_has_a_row_per_question_and_escapes_pipes():
    """One markdown row per question; a "|" inside an answer cannot split its row."""
    after = ["a | b"] * len(QUESTIONS)
    rows = [
        line
        for line in table(["x"] * len(QUESTIONS), after, "commit abc").splitlines()
        if line.startswith("| §")
    ]
    assert len(rows) == len(QUESTIONS)
    assert all(len(re.split(r"(?<!\\)\|", row)) == 6 for row in rows)  # 4 cells between 5 bars
    assert all(row.endswith("| a \\| b |") for row in rows)
