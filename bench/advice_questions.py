"""The questions of issue 12, asked the way people ask them, with the headline answer of each.

    python -m bench.advice_questions                       # this checkout: one headline per question
    python -m bench.advice_questions --before /tmp/before  # also a baseline checkout: writes the table
                                                           # docs/advice-before-after.md

Every question runs as a real ``fitbot`` command in a subprocess (``python -m bot.cli``), against a fresh
database seeded with the bundled catalog, once per checkout: the baseline checkout answers with its own
code and catalog. The headline is the line a reader acts on: the "Best choice" line of a fit, the top
three of a rank, the first line of a term or model answer, or the one-line error.

A baseline checkout is made with ``git worktree add /tmp/before 9bd6c7e`` (and removed with
``git worktree remove /tmp/before``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "advice-before-after.md"
_CELL_LIMIT = 240
_TIMEOUT_S = 120
_FIT_COUNT = re.compile(r"^[\d.]+[KMBT] parameters \(")
_SUMMARY = "Issue 12's questions with the headline answer of each; --before PATH writes the table."


@dataclass(frozen=True, slots=True)
class Question:
    """One question: the issue section it comes from, and the ``fitbot`` arguments that ask it."""

    section: str
    args: tuple[str, ...]
    why: str = ""

    @property
    def typed(self) -> str:
        return "fitbot " + " ".join(f'"{a}"' if " " in a or not a else a for a in self.args)


def _fit(model: str, budget: str, *flags: str, why: str = "") -> Question:
    return Question("§1 pick", ("fit", model, budget, *flags), why)


# §2: each budget as people type it, asked about the same community favourite (an MoE that offloads well).
_BUDGET_MODEL = "qwen3-30b-a3b"
_BUDGETS = (
    "64GB RAM",
    "no gpu",
    "cpu only",
    "128GB mac",
    "mac studio 192",
    "M4 Max",
    "P40",
    "P100",
    "MI50",
    "MI60",
    "RX 6700 XT",
    "RX 6800",
    "RTX 5060 Ti 16GB",
    "colab t4",
    "strix halo",
    "dgx spark",
)

QUESTIONS: tuple[Question, ...] = (
    _fit("qwen3-30b-a3b", "RTX 3060", why="IQ2_XXS picked over Q4_K_M with experts in RAM"),
    _fit("gpt-oss-120b", "dgx spark", why="Q8_0 picked over the native MXFP4"),
    _fit("gpt-oss-20b", "16GB", why="IQ4_XS picked over the native MXFP4"),
    _fit("llama-3.1-8b", "12GB", why="FP8 (a vLLM format) on a 12 GB card"),
    _fit("llama-3.1-405b", "8xH100", why="GGUF with layer-split speed on 8×H100"),
    _fit("qwen2.5-32b", "24GB", "--context", "128k", why="the least context for a 128k ask (model assumed)"),
    _fit("qwen2.5-32b", "24GB", "--kv-cache", "q4_0", why="a self-contradicting headline (model assumed)"),
    _fit("deepseek-r1", "RTX 4090", why="the fourth verdict: runs from disk"),
    *(Question("§2 budgets", ("fit", _BUDGET_MODEL, b)) for b in _BUDGETS),
    Question("§4 rank", ("rank", "RTX 3060")),
    Question("§4 rank", ("rank", "RTX 4090", "--use", "code")),
    Question("§4 rank", ("rank", "64GB RAM")),
    Question("§4 rank", ("rank", "M4 Max", "--use", "long_context")),
    Question("§5 ask", ("ask", "can I run deepseek r1 on a 4090")),
    Question("§5 ask", ("ask", "will qwen2.5 32b fit in 24gb")),
    Question("§5 ask", ("ask", "what can I run on a 3060")),
    Question("§5 ask", ("ask", "llama 3.1 8b on my macbook m3 pro 18gb")),
    Question("§5 ask", ("ask", "what is a kv cache")),
    Question("§5 ask", ("ask", "/fit qwen2.5-32b 24GB")),
)


@dataclass(frozen=True, slots=True)
class Answer:
    exit_code: int
    stdout: str
    stderr: str


def ask(checkout: Path, db: Path, question: Question) -> Answer:
    """Run one question as ``python -m bot.cli`` in ``checkout``, with its own code on the path."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "COLUMNS": "200", "FITBOT_LOG_LEVEL": "ERROR"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "--db", str(db), *question.args],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return Answer(-1, "", f"no answer within {_TIMEOUT_S} s")
    return Answer(done.returncode, done.stdout, done.stderr)


def headline(answer: Answer) -> str:
    """The line a reader acts on (module docstring)."""
    if answer.exit_code != 0:
        last = [line for line in answer.stderr.strip().splitlines() if line.strip()]
        return f"exit {answer.exit_code}: {last[-1].strip() if last else '(no message)'}"
    lines = [line.rstrip() for line in answer.stdout.splitlines()]
    read_as = next((line for line in lines if line.startswith("Read as: ")), "")
    body = [line for line in lines if line and not line.startswith("Read as: ")]
    best = next((line for line in body if line.startswith("Best choice")), None)
    if best is None and body and body[0].startswith("model ") and "quant" in body[0]:
        best = _rank_headline(body[1:])
    if best is None:
        # a fit's verdict follows its title, underline, Hub link and short parameter-count line
        rest = (line for line in body[2:] if not (line.startswith(("http", "=")) or _FIT_COUNT.match(line)))
        best = next(rest, body[0] if body else "")
    return f"{read_as[len('Read as: ') :]} → {best}" if read_as else best


def _rank_headline(rows: list[str]) -> str:
    top = [re.sub(r"\s{2,}", " ", row).strip() for row in rows[:3] if not row.startswith(("(", "Ranked"))]
    return "; ".join(top) if top else next((r for r in rows if r.startswith("(")), "(empty)")


def answers(checkout: Path) -> list[str]:
    """The headline of every question, asked in ``checkout`` against a fresh database."""
    with tempfile.TemporaryDirectory(prefix="fitbot-advice-") as tmp:
        db = Path(tmp) / "fitbot.sqlite"
        return [headline(ask(checkout, db, q)) for q in QUESTIONS]


def _cell(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _CELL_LIMIT:
        text = text[: _CELL_LIMIT - 1] + "…"
    return text.replace("|", "\\|")


def table(before: list[str], after: list[str], before_label: str) -> str:
    """The markdown document: one row per question, the baseline's headline and ours."""
    lines = [
        "# Issue 12's questions: before and after",
        "",
        "Generated by `python -m bench.advice_questions --before PATH` (do not edit by hand). "
        f"Before: {before_label}. After: this checkout. Each cell is the answer's headline: the "
        "best-choice line of a fit, the top three of a rank, or the one-line error. Where the issue "
        "names no model, the model is an assumption written in the row; §2 asks every budget about "
        f"{_BUDGET_MODEL}.",
        "",
        "| section | question | before | after |",
        "|---|---|---|---|",
    ]
    for question, old, new in zip(QUESTIONS, before, after, strict=True):
        typed = f"`{question.typed}`" + (f" ({question.why})" if question.why else "")
        lines.append(f"| {question.section} | {_cell(typed)} | {_cell(old)} | {_cell(new)} |")
    return "\n".join(lines) + "\n"


def _revision(checkout: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.advice_questions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--before", type=Path, help="a baseline checkout (git worktree) to compare against")
    parser.add_argument(
        "--out", type=Path, default=DOC, help=f"where --before writes the table (default {DOC})"
    )
    args = parser.parse_args(argv)
    after = answers(REPO)
    if args.before is None:
        for question, line in zip(QUESTIONS, after, strict=True):
            print(f"{question.typed}\n    {line}")
        return 0
    before = answers(args.before.resolve())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table(before, after, f"commit {_revision(args.before)}"), encoding="utf-8")
    print(f"wrote {args.out} ({len(QUESTIONS)} questions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
