"""Writing the audit folder's CSV tables: write_csv against the standard writers, same run.

    python benchmarks/csv_write.py                 # the 1M-row synthetic filing
    python benchmarks/csv_write.py --rows 100000 --repeat 3
    python benchmarks/csv_write.py --lang zh       # the Chinese tables (codes translated)

The facilities and findings tables are built from one synthetic filing
(``synthetic.make_filing``) as ``write_report`` builds them for ``--lang``, then each
is written to memory by ``pilotzone``'s ``write_csv`` (formula-like text neutralised,
CRLF, a byte order mark), by ``pandas.DataFrame.to_csv`` of the same table (no
neutralising: what pandas alone costs) and by ``pyarrow.csv.write_csv`` (no
neutralising, its own quoting and number format). Each figure is the best of
``--repeat`` runs in seconds; the ratios are write_csv's time over each standard
writer's. Run it with the ``src`` of two commits on ``PYTHONPATH`` to compare them.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
from synthetic import make_filing

import pilotzone as pz
from pilotzone import report
from pilotzone._tables import facilities_table, localised, write_csv
from pilotzone.zones import load_zones


def best(write: Callable[[io.BytesIO], object], repeat: int) -> tuple[float, int]:
    """The best wall time of ``repeat`` writes to memory, and the bytes written."""
    times, size = [], 0
    for _ in range(repeat):
        out = io.BytesIO()
        start = time.perf_counter()
        write(out)
        times.append(time.perf_counter() - start)
        size = len(out.getvalue())
    return min(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        filing = Path(tmp) / "filing.csv"
        make_filing(args.rows).to_csv(filing, index=False)
        result = pz.verify(pz.read_facilities(filing))
    zones = load_zones(as_of=result.attrs.get("as_of"))
    names = dict(zip(zones["zone_id"], zones[f"short_name_{args.lang}"], strict=True))
    tables = {
        "facilities.csv": localised(facilities_table(result), args.lang, names),
        "findings.csv": localised(report.findings(result, zones), args.lang, names),
    }
    print(
        f"rows {args.rows:,}, lang {args.lang}, best of {args.repeat}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'table':<16} {'rows':>10} {'MB':>7} {'write_csv':>10} {'to_csv':>8} "
          f"{'pyarrow':>8} {'/to_csv':>8} {'/pyarrow':>9}")  # fmt: skip
    for name, table in tables.items():
        ours, size = best(lambda out, t=table: write_csv(t, out), args.repeat)
        pandas, _ = best(
            lambda out, t=table: t.to_csv(out, index=False, lineterminator="\r\n"), args.repeat
        )
        arrow_table = pa.Table.from_pandas(table, preserve_index=False)
        arrow, _ = best(lambda out, t=arrow_table: pv.write_csv(t, out), args.repeat)
        print(
            f"{name:<16} {len(table):>10,} {size / 1e6:>7.0f} {ours:>10.2f} {pandas:>8.2f} "
            f"{arrow:>8.2f} {ours / pandas:>7.2f}x {ours / arrow:>8.2f}x"
        )


if __name__ == "__main__":
    main()
