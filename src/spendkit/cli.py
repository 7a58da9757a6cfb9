"""`spendkit` command line: a thin wrapper over the package functions.

    spendkit load FILE [--publisher NAME]          what the loader makes of one file
    spendkit ingest [RAW_DIR] [--out DIR] [--force] a folder → data/processed
    spendkit sample [OUT_DIR] [--seed N] [--scale X] write the synthetic sample (data/sample/raw)
    spendkit report [--council NAME] [--years A:B] [--export xlsx,csv] [--pdf] [--analyst]
                                                   notebooks → reports/
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from spendkit import __version__
from spendkit.errors import SpendkitError


def _cmd_load(args: argparse.Namespace) -> int:
    from spendkit.loader import load

    result = load(args.file, publisher=args.publisher)
    print(result.ledger.summary())
    if args.rejects and len(result.rejects):
        print(result.rejects.to_string(index=False, max_colwidth=80))
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from spendkit.ingest import ingest

    progress = False if args.quiet else None
    summary = ingest(args.raw_dir, args.out, force=args.force, progress=progress,
                     jobs=args.jobs, allow_sample_mix=args.allow_sample_mix)
    if summary.up_to_date:
        print(f"up to date: {summary.latest} (nothing changed in the raw files)")
    if summary.raw_dir is not None:
        print(f"raw files: {summary.raw_dir}")
    print(summary.text(history=True), end="")
    print(f"written to {summary.latest}")
    if summary.failed:
        print(f"spendkit: {len(summary.failed)} of {len(summary.files)} file(s) could not be "
              "read (each listed above as FAILED); the others were ingested", file=sys.stderr)
        return 1
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from spendkit.sample import DEFAULT_SEED, generate_sample
    from spendkit.settings import get_settings

    settings = get_settings()
    out = Path(args.out_dir) if args.out_dir else settings.sample_raw_dir
    # The sample's council profiles live beside its raw folder (data/sample/councils).
    paths = generate_sample(out, seed=args.seed if args.seed is not None else DEFAULT_SEED,
                            scale=args.scale, councils_dir=out.parent / "councils")
    print(f"wrote {len(paths)} SYNTHETIC sample file(s) under {out}")
    return 0


def parse_years(text: str | None) -> list[str] | None:
    """'2021-22:2025-26', '2024/25', 'FY2024' … → financial-year labels (forgiving)."""
    if not text:
        return None
    from spendkit.units.periods import parse_years_argument

    return parse_years_argument(text)


def parse_formats(text: str | None) -> list[str]:
    """'xlsx,csv' → ['xlsx', 'csv'] (order kept, repeats dropped); '' → []."""
    if not text:
        return []
    from spendkit.report import EXPORT_FORMATS

    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        raise SpendkitError(f"--export {text!r}: unknown format(s) {', '.join(unknown)}; "
                            f"expected a comma-separated list of {', '.join(EXPORT_FORMATS)}")
    return formats


def _cmd_report(args: argparse.Namespace) -> int:
    from spendkit.report.pipeline import build_all

    params: dict[str, object] = {}
    if args.council:
        params["council"] = args.council
    years = parse_years(args.years)
    if years:
        params["years"] = years
    out = Path(args.out) if args.out else None
    summary = build_all(parameters=params, force_ingest=args.force, progress=not args.quiet,
                        analyst=args.analyst, export=parse_formats(args.export), pdf=args.pdf,
                        jobs=args.jobs, out_dir=out)
    if not args.quiet:
        for line in summary.lines():
            print(f"  {line}")
    if summary.pdf_skipped:
        print(f"spendkit: {summary.pdf_skipped}", file=sys.stderr)
    print(f"reports written to {summary.out_dir} in {summary.seconds:.1f} s "
          f"(open {summary.index.name})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (tested for every command's --help)."""
    p = argparse.ArgumentParser(prog="spendkit", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"spendkit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("load", help="load one file and print its ledger")
    s.add_argument("file", type=Path)
    s.add_argument("--publisher", help="council name or GSS code (overrides detection)")
    s.add_argument("--rejects", action="store_true", help="also print the rejected rows")
    s.set_defaults(func=_cmd_load)

    s = sub.add_parser("ingest", help="load every file under RAW_DIR into data/processed")
    s.add_argument("raw_dir", nargs="?", type=Path,
                   help="default: data/raw, or the bundled sample while data/raw holds no data")
    s.add_argument("--out", type=Path, help="processed folder (default: data/processed)")
    s.add_argument("--force", action="store_true", help="reload files already processed")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--jobs", type=int, help="threads to load with (default: automatic)")
    s.add_argument("--allow-sample-mix", action="store_true",
                   help="ingest SYNTHETIC sample files found beside real files (refused "
                        "otherwise)")
    s.set_defaults(func=_cmd_ingest)

    s = sub.add_parser("sample", help="write the SYNTHETIC sample data set")
    s.add_argument("out_dir", nargs="?", help="default: data/sample/raw")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--scale", type=float, default=1.0, help="multiply row counts")
    s.set_defaults(func=_cmd_sample)

    s = sub.add_parser("report", help="ingest if needed, run the notebooks, write reports/")
    s.add_argument("--council", help="council name or GSS code the notebooks focus on")
    s.add_argument("--years", help="financial years, e.g. 2021-22:2025-26")
    s.add_argument("--export", metavar="FORMATS",
                   help="also write the tables beside the pages: xlsx, csv or xlsx,csv")
    s.add_argument("--pdf", action="store_true",
                   help="also print each page to PDF (needs Chromium; skipped without it)")
    s.add_argument("--analyst", action="store_true",
                   help="also write pages that show the code (analyst view) under analyst/")
    s.add_argument("--no-input", action="store_true",
                   help=argparse.SUPPRESS)  # the report view hides code by default now
    s.add_argument("--out", help="reports folder (default: reports/); replaced whole")
    s.add_argument("--jobs", type=int, help="notebooks run at once (default: 2)")
    s.add_argument("--force", action="store_true", help="re-ingest even if up to date")
    s.add_argument("--quiet", action="store_true", help="no progress output")
    s.set_defaults(func=_cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command; user mistakes print one clear line, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpendkitError as exc:
        print(f"spendkit: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spendkit: interrupted; the previous processed data is untouched", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped early (`spendkit load x | head`): not an error. Point stdout at
        # devnull so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
