"""Real files in the answers (issue 15 §6): which GGUF files on the Hub fit, with exact bytes and links.

Shared by /fit (files priced on the budget) and /model (a GGUF repo's files); both are ordinary
sections of the document, so every surface renders them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from estimator import DOES_NOT_FIT, FITS, FITS_REDUCED_CONTEXT, NEEDS_OFFLOAD, Verdict, compare_param_counts
from store import GgufFileFit, GgufFileRecord, GgufRepoRecord, ModelRecord

from . import _format as fmt
from ._document import Column, Line, Section, Table, link, strong
from ._safe import clean

if TYPE_CHECKING:  # the service imports the answers' pricing, which imports this module
    from ._service import ResolvedModel

FILE_LABELS = {
    FITS: "✅ fits",
    FITS_REDUCED_CONTEXT: "🟡 less ctx",
    NEEDS_OFFLOAD: "🟠 offload",
    DOES_NOT_FIT: "❌ no",
}
FIT_COLUMNS = (
    Column("file", 34),
    Column("quant", 11, gap=1),
    Column("file GB", 8, ">"),
    Column("total", 7, ">"),
    Column("verdict", 11, "<", gap=2),
    Column("max ctx", 8, ">"),
)
REPO_COLUMNS = (
    Column("file", 40),
    Column("quant", 11, gap=1),
    Column("bytes", 16, ">", gap=1),
    Column("parts", 5, ">", gap=1),
    Column("parameters", 15, ">", gap=1),
)
SHOWN_FILES = 10  # a chat answer lists this many; the JSON lists every file


def file_url(repo_id: str, file: str) -> str:
    """The file's page on the Hub (a split file: its first part)."""
    return f"https://huggingface.co/{quote(repo_id, safe='/')}/blob/main/{quote(file, safe='/')}"


def shown_fits(fits: tuple[GgufFileFit, ...], *, named: bool) -> tuple[GgufFileFit, ...]:
    """The files a /fit answer lists: every named file; of a base model's files, those that run."""
    return fits if named else tuple(f for f in fits if f.option.verdict != DOES_NOT_FIT)


def files_fit_section(fits: tuple[GgufFileFit, ...], *, named: bool, hidden: int = 0) -> Section | None:
    """The real files, priced from their own tensor tables (llama.cpp), most downloaded first."""
    shown = shown_fits(fits, named=named)
    if not shown:
        return None
    rows = tuple(
        (
            clean(_short(f.file.file), 34),
            clean(f.file.quant or "?", 11),
            f"{f.file.size_bytes / 1e9:,.2f}",
            fmt.gib_number(f.option.total_bytes),
            FILE_LABELS[Verdict(f.option.verdict)],
            fmt.tokens(f.option.max_context) if f.option.max_context else "—",
        )
        for f in shown[:SHOWN_FILES]
    )
    # The URL is its own label: the terminal prints a link's label only.
    links: list[Line] = [
        (link(url, url),) for url in (file_url(f.file.repo_id, f.file.file) for f in shown[:SHOWN_FILES])
    ]
    more = len(shown) - SHOWN_FILES + hidden
    if more > 0:
        links.append((f"and {more} more files not shown",))  # no CLI advice: Discord shares this
    heading = "Files on the Hub (llama.cpp, exact weights; total in GiB, file size in GB)"
    return Section(heading, (Table(FIT_COLUMNS, rows), *links))


def repo_files_section(repo: GgufRepoRecord) -> Section:
    """A GGUF repo's files with their exact bytes, parts and parameter counts (from tensor shapes)."""
    rows = tuple(
        (
            clean(_short(f.file), 40),
            clean(f.quant or ("mmproj" if f.kind == "mmproj" else "?"), 11),
            f"{f.size_bytes:,}",
            str(f.split_count),
            f"{f.total_params:,}" if f.total_params is not None else clean(f.status, 15),
        )
        for f in repo.files
    )
    return Section("Files (exact bytes; parameters from the tensor shapes)", (Table(REPO_COLUMNS, rows),))


def named_file_line(fits: tuple[GgufFileFit, ...]) -> Line | None:
    """The headline when the user named one file (or a repo/quant with one file): that file's verdict."""
    if len(fits) != 1:
        return None
    f = fits[0]
    o = f.option
    verdict = FILE_LABELS[Verdict(o.verdict)]
    context = f", up to {fmt.tokens(o.max_context)} tokens of context" if o.max_context else ""
    return (
        strong(f"{clean(_short(f.file.file), 80)}: {verdict}"),
        f" — {f.file.size_bytes:,} bytes on the Hub, {fmt.gib(o.total_bytes)} in all with llama.cpp"
        f"{context}.",
    )


def card_file_line(fits: tuple[GgufFileFit, ...], *, named: bool) -> Line | None:
    """One line for a short answer: the named file's verdict, or the best real file that runs (the
    largest that fits, else the largest that runs with offload), with its link."""
    single = named_file_line(fits) if named else None
    if single is not None:
        return single
    running = [f for f in fits if f.option.verdict != DOES_NOT_FIT]
    fitting = [f for f in running if f.option.verdict == FITS] or running
    if not fitting:
        return None
    best = max(fitting, key=lambda f: f.file.size_bytes)
    return (
        strong("Real file: "),
        link(clean(_short(best.file.file), 80), file_url(best.file.repo_id, best.file.file)),
        f" — {best.file.size_bytes / 1e9:,.1f} GB, {FILE_LABELS[Verdict(best.option.verdict)]}"
        f" ({len(running)} of {len(fits)} files run).",
    )


def count_notes(record: ModelRecord, files: tuple[GgufFileRecord, ...]) -> tuple[str, ...]:
    """Where a file's parameter count (its tensor shapes) differs from its base model's exact count."""
    a = record.accounting
    if a is None or not a.counts_known:  # header-read, or derived for a described family: exact
        return ()
    notes = []
    for f in files:
        if f.total_params is None or (f.facts is not None and f.facts.nextn_predict_layers):
            continue  # a file with MTP blocks holds parameters the base count may leave out
        note = compare_param_counts(f.total_params, a.total_params)
        if note:
            notes.append(f"{_short(f.file)}: {note}")
    return tuple(dict.fromkeys(notes))[:3]


def sibling_line(resolved: ResolvedModel) -> Line | None:
    """When the model has no GGUF files but its base/-Instruct sibling has: say which, and how to ask."""
    sibling = resolved.sibling
    if sibling is None or resolved.sibling_files <= 0:
        return None
    count = resolved.sibling_files
    return (
        f"No GGUF file of {clean(resolved.record.repo_id, 120)} is in the catalog, but "
        f"{count} file{'s' if count != 1 else ''} of its sibling ",
        strong(clean(sibling, 120)),
        f" {'are' if count != 1 else 'is'}: ask for {clean(sibling, 120)} to list them.",
    )


def _short(file: str) -> str:
    return file.rsplit("/", 1)[-1]
