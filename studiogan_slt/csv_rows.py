"""Append-only CSV logs that survive a kill: one flushed write per row, and a reader that drops a last line cut
short (no newline). Used for the per-run CSVs the plugin writes while StudioGAN trains (search diagnostics, the
digits metric); a row appended this way is either whole in the file or absent."""
import csv
import io
import os


def append(path, row, fields):
    """Append one row (missing or None values are empty cells), writing the header first when the file is new."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    line = io.StringIO()
    writer = csv.DictWriter(line, fieldnames=fields, lineterminator="\n")
    with open(path, "a", newline="") as f:
        if f.tell() == 0:
            writer.writeheader()
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})
        f.write(line.getvalue())
        f.flush()


def read(path, types):
    """The rows of such a CSV; `types` maps a column to the function that parses it (others stay strings), and an
    empty cell is None."""
    with open(path, newline="") as f:
        text = f.read()
    if not text.endswith("\n"):
        text = text[:text.rfind("\n") + 1]
    return [{k: None if v == "" else types.get(k, str)(v) for k, v in r.items()}
            for r in csv.DictReader(io.StringIO(text))]
