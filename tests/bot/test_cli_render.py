"""The terminal renderer: content-sized table columns, "How to run" commands, rich only on a TTY."""

import io
import json
import re

from click.testing import CliRunner

from bot._document import Action, Column, Document, Section, Table, code, strong
from bot._document import table_lines
from bot.app._cli_render import echo_document, render_plain
from bot.cli import main

GIB = 2**30


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal, as a real TTY does."""

    def isatty(self):
        return True


def test_values_of_a_thousand_or_more_never_touch_their_neighbour():
    """A right-aligned value wider than its column gets a space; narrow ones keep the declared layout."""
    table = Table(
        (Column("quant", 6), Column("KV", 6, ">"), Column("other", 6, ">"), Column("total", 7, ">")),
        (("BF16", "0.5", "4.3", "1,253.2"), ("Q4", "1,024.0", "12,345.6", "9.9")),
    )
    lines = table_lines(table)
    for line, row in zip(lines[1:], table.rows, strict=True):
        assert line.split() == list(row)
    # the columns still line up: every row is as long as the header
    assert len({len(line) for line in lines}) == 1


def test_table_without_collisions_keeps_its_declared_widths():
    """Content that fits its columns renders exactly as the declared fixed widths."""
    table = Table((Column("a", 5), Column("b", 6, ">")), (("x", "1.0"),))
    assert table_lines(table) == [f"{'a':<5}{'b':>6}", f"{'x':<5}{'1.0':>6}"]


def test_fit_table_separates_a_total_over_a_thousand_gib(db_path):
    """`fitbot fit ds v3`: BF16 passes 1,000 GiB, and each value from --json stands apart in the table."""
    runner = CliRunner()
    args = ["--db", str(db_path), "fit", "ds v3", "8xH200"]
    options = json.loads(runner.invoke(main, [*args, "--json"]).output)["options"]
    text = runner.invoke(main, args).output
    big = [o for o in options if o["total_bytes"] >= 1000 * GIB]
    assert big, "the reference case needs a total of 1,000 GiB or more"
    for option in big:
        row = next(line for line in text.splitlines() if line.startswith(option["quant"] + " "))
        for key in ("weights_gpu_bytes", "kv_cache_bytes", "overhead_bytes", "total_bytes"):
            assert re.search(rf"(^|\s){re.escape(f'{option[key] / GIB:,.1f}')}(\s|$)", row), (key, row)


DOC = Document(
    "org/[red]Model[/red] on 24 GiB",
    lines=((strong("Best choice: Q4_K_M"), " — ", code("20.8 GiB")),),
    sections=(
        Section("Memory", (Table((Column("quant", 8), Column("total", 7, ">")), (("Q4_K_M", "20.8"),)),)),
    ),
    notes=("Sizes in GiB.",),
    actions=(
        Action("llama.cpp", "llama-server -m Model-Q4_K_M.gguf -c 8192 -ngl 99 -fa on " + "-x " * 40),
        Action("Ollama", "ollama run model:q4_K_M"),
    ),
)


def test_plain_text_lists_the_launch_commands_under_how_to_run():
    """Document.actions appear in plain text as a "How to run" list, each command whole on one line."""
    text = render_plain(DOC)
    lines = text.splitlines()
    start = lines.index("How to run:")
    assert lines[start + 1] == f"  llama.cpp: {DOC.actions[0].command}"
    assert lines[start + 2] == "  Ollama: ollama run model:q4_K_M"


def test_pipes_get_plain_text():
    """A stream that is not a terminal gets the plain rendering, byte for byte, without escape codes."""
    out = io.StringIO()
    echo_document(DOC, stream=out)
    assert out.getvalue() == render_plain(DOC) + "\n"
    assert "\x1b[" not in out.getvalue()


def test_terminal_gets_rich_with_text_taken_literally():
    """On a TTY: styled output, markup-looking names printed as typed, launch commands never wrapped."""
    out = FakeTerminal()
    echo_document(DOC, stream=out)
    styled = out.getvalue()
    assert "\x1b[" in styled  # rich styles it
    visible = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\\\", "", styled)
    assert "org/[red]Model[/red] on 24 GiB" in visible
    assert DOC.actions[0].command.rstrip() in visible  # longer than the console, still one unbroken line
    assert "How to run" in visible and "Q4_K_M" in visible and "Sizes in GiB." in visible


def test_ask_and_fit_print_the_same_plain_answer(db_path):
    """The command-table path and the fit command share the renderer: same text for the same question."""
    runner = CliRunner()
    fit = runner.invoke(main, ["--db", str(db_path), "fit", "qwen2.5-32b", "24GB"]).output
    assert runner.invoke(main, ["--db", str(db_path), "ask", "/fit qwen2.5-32b 24GB"]).output == fit
    assert "\x1b[" not in fit


def test_continuation_pages_print_under_one_title():
    """Pages of one answer (Discord's paging) print as one list under one title; other titles stay apart."""
    page2 = Document("What runs", lines=(("2. model-b",),), notes=("Ranked by downloads.",))
    other = Document("Something else", lines=(("x",),))
    doc = Document(
        "What runs", lines=(("1. model-a",),), notes=("Ranked by downloads.",), pages=(page2, other)
    )
    text = render_plain(doc)
    assert text.count("What runs") == 1 and text.count("Ranked by downloads.") == 1
    assert text.index("1. model-a") < text.index("2. model-b") < text.index("Something else")
    styled = FakeTerminal()
    echo_document(doc, stream=styled)
    assert styled.getvalue().count("What runs") == 1 and "2. model-b" in styled.getvalue()
