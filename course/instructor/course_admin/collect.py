"""``course collect``: unpack an LMS bulk download into one submission per learner.

::

    course collect download.zip [--out submissions/] [--roster roster.csv]

Understands the two common layouts (file names are the learner's key; nothing else is trusted):

- **Canvas** ("Download Submissions"): a flat zip of ``<name>[_LATE]_<user id>_<submission id>_<file>``,
  e.g. ``smithjane_LATE_1234_56789_03_backprop.ipynb``; a resubmission ends in ``-1``, ``-2``...
- **Moodle** ("Download all submissions"): ``<Full Name>_<participant id>_assignsubmission_file_/<file>``
  (a folder per learner) or the same prefix on a flat file name.

Learners are keyed by their LMS id, never by display name (two learners may share one): each LMS
id's latest notebook is written to ``OUT/<learner>.ipynb``, where ``<learner>`` is the ``learner``
column of ``--roster`` for that LMS id (columns ``lms_id``, ``name``, ``learner``; a ``name`` row is
used only when no other LMS id in the download has that display name), else a name made from the
LMS name and id. Every file of the download not used is listed in ``OUT/skipped.txt`` with the
reason (an earlier notebook of the same id, not a notebook, too large), and printed. ``OUT/manifest.csv`` records
learner, file, the LMS name and id, ``submitted_at`` and ``time_source``: the zip entry's time stamp
(the time the LMS wrote for the upload, in the LMS server's time zone), and the LMS's own late mark.
``course grade --deadline`` reads this manifest for submission times. Learners of the roster
with no notebook are listed in ``OUT/missing.txt``.

The zip is untrusted: entry paths are never used as paths, sizes are capped, non-notebooks skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import quoting

__all__ = ["Entry", "parse_name", "collect", "read_manifest", "MANIFEST", "add_arguments", "run"]

MANIFEST = "manifest.csv"
MAX_ENTRY_BYTES = 50 * 2**20
MAX_ENTRIES = 100_000

_CANVAS = re.compile(r"^(?P<name>[^_/]+?)(?P<late>_LATE)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+?)(?:-(?P<rev>\d+))?"
                     r"(?P<ext>\.ipynb)$", re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>[^/]+?)_(?P<id>\d+)_assignsubmission_[a-z]+_/?(?P<file>.*)$", re.IGNORECASE)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Entry:
    """One notebook found in the download."""

    lms: str  # "canvas" or "moodle"
    name: str
    lms_id: str
    file: str
    late_flag: bool
    revision: int
    submitted_at: dt.datetime | None
    member: str  # the zip member it came from


def parse_name(member: str) -> dict | None:
    """The LMS, learner name and id of a zip member's name, or ``None`` when it is neither layout
    (or names a path outside the download: such a member is skipped, never written)."""
    parts = member.replace("\\", "/").split("/")
    if member.startswith("/") or ".." in parts or len(parts) > 2:
        return None
    m = _MOODLE.match(member)
    if m:
        return {"lms": "moodle", "name": m["name"].strip(), "lms_id": m["id"], "file": Path(m["file"]).name,
                "late_flag": False, "revision": 0}
    m = _CANVAS.match(member) if len(parts) == 1 else None
    if m:
        return {"lms": "canvas", "name": m["name"], "lms_id": m["id"], "file": m["file"] + m["ext"],
                "late_flag": bool(m["late"]), "revision": int(m["rev"] or 0)}
    return None


def _safe(text: str) -> str:
    return _SAFE.sub("_", text).strip("._") or "learner"


def _roster(path) -> tuple[dict, dict]:
    by_id, by_name = {}, {}
    if not path:
        return by_id, by_name
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "learner" not in reader.fieldnames:
            raise ValueError(f"{path}: a roster needs a 'learner' column (and 'lms_id' and/or 'name'); "
                             f"found columns {reader.fieldnames}")
        for row in reader:
            learner = (row.get("learner") or "").strip()
            if not learner:
                continue
            if (row.get("lms_id") or "").strip():
                by_id[row["lms_id"].strip()] = learner
            if (row.get("name") or "").strip():
                by_name[row["name"].strip().lower()] = learner
    return by_id, by_name


def _names(latest: dict, by_id: dict, by_name: dict, notes: list) -> dict:
    """``{(LMS, LMS id): file name}``, one file per LMS id: the roster's learner for that id; else
    for a display name (the roster's ``name`` column) only when no other LMS id in the download
    has that display name; else the LMS name and id. Two ids never share a file."""
    count: dict = {}
    for e, _ in latest.values():
        count[e.name.lower()] = count.get(e.name.lower(), 0) + 1
    names, used = {}, set()
    for key, (e, _) in sorted(latest.items()):
        learner = by_id.get(e.lms_id)
        if learner is None and e.name.lower() in by_name:
            if count[e.name.lower()] == 1:
                learner = by_name[e.name.lower()]
            else:
                notes.append(f"{e.member}: its display name is shared by {count[e.name.lower()]} LMS ids: "
                             "named by its LMS id, not by the roster's name")
        name = _safe(learner or f"{e.name}_{e.lms_id}")
        if name in used:
            notes.append(f"{e.member}: the roster gives {name} to another LMS id too: named {name}_{e.lms_id}")
            name = _safe(f"{name}_{e.lms_id}")
        used.add(name)
        names[key] = name
    return names


def collect(download, out, roster=None) -> list[dict]:
    """Unpack ``download`` (a zip) into ``out``; returns the manifest rows (also written to
    ``out/manifest.csv``). Raises ``ValueError`` naming the file for a download it cannot read."""
    download, out = Path(download), Path(out)
    try:
        zf = zipfile.ZipFile(download)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{download}: not a readable zip file ({exc})") from None
    by_id, by_name = _roster(roster)
    latest: dict[tuple, tuple[Entry, zipfile.ZipInfo]] = {}  # keyed by (LMS, LMS id): never a display name
    skipped = []  # every member not used, and why
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ValueError(f"{download}: {len(infos)} entries, more than the {MAX_ENTRIES} allowed")
        for info in infos:
            if info.is_dir():
                continue
            parsed = parse_name(info.filename)
            if parsed is None or not parsed["file"].lower().endswith(".ipynb"):
                skipped.append(f"{info.filename}: not a notebook of a known LMS layout")
                continue
            if info.file_size > MAX_ENTRY_BYTES:
                skipped.append(f"{info.filename}: over {MAX_ENTRY_BYTES // 2**20} MiB")
                continue
            try:
                when = dt.datetime(*info.date_time)
            except ValueError:
                when = None
            e = Entry(member=info.filename, submitted_at=when, **parsed)
            key = (e.lms, e.lms_id)
            old = latest.get(key)
            if old is None or (e.revision, e.submitted_at or dt.datetime.min) >= (
                    old[0].revision, old[0].submitted_at or dt.datetime.min):
                if old is not None:
                    skipped.append(f"{old[0].member}: an earlier notebook of LMS id {e.lms_id} ({e.member} is later)")
                latest[key] = (e, info)
            else:
                skipped.append(f"{e.member}: an earlier notebook of LMS id {e.lms_id} ({old[0].member} is later)")
        names = _names(latest, by_id, by_name, skipped)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for key, (e, info) in sorted(latest.items(), key=lambda kv: names[kv[0]]):
            learner = names[key]
            target = out / f"{learner}.ipynb"
            with zf.open(info) as src:
                data = src.read(MAX_ENTRY_BYTES + 1)
            target.write_bytes(data[:MAX_ENTRY_BYTES])
            rows.append({"learner": learner, "file": target.name, "lms": e.lms, "lms_name": e.name,
                         "lms_id": e.lms_id, "original_file": e.file,
                         "submitted_at": e.submitted_at.isoformat(timespec="seconds") if e.submitted_at else "",
                         "time_source": "zip entry time" if e.submitted_at else "",
                         "lms_late": "yes" if e.late_flag else ""})
    with open(out / MANIFEST, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["learner", "file", "submitted_at"])
        w.writeheader()
        w.writerows(rows)
    (out / "skipped.txt").unlink(missing_ok=True)
    if skipped:
        (out / "skipped.txt").write_text("\n".join(skipped) + "\n", encoding="utf-8")
    missing = sorted({_safe(v) for v in (*by_id.values(), *by_name.values())} - set(names.values()))
    (out / "missing.txt").unlink(missing_ok=True)
    if missing:
        (out / "missing.txt").write_text("\n".join(missing) + "\n", encoding="utf-8")
    return rows


def read_manifest(folder) -> dict[str, dict]:
    """``{notebook file stem: manifest row}`` from ``folder/manifest.csv``; empty when there is none."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r.get("file", "")).stem: r for r in csv.DictReader(fh) if r.get("file")}


def add_arguments(p) -> None:
    p.add_argument("download", help="the LMS's bulk-download zip (Canvas or Moodle)")
    p.add_argument("--out", default="submissions", help="folder for one notebook per learner (default submissions/)")
    p.add_argument("--roster", help="CSV mapping LMS ids or names to learner names (columns lms_id, name, learner)")


def run(args) -> int:
    try:
        rows = collect(args.download, args.out, args.roster)
    except (OSError, ValueError) as exc:
        print(f"course collect: {exc}", file=sys.stderr)
        return 2
    late = sum(r.get("lms_late") == "yes" for r in rows)
    print(f"collected {len(rows)} learners' notebooks into {args.out} ({late} marked late by the LMS); "
          f"times from the zip entries, in {Path(args.out) / MANIFEST}")
    missing = Path(args.out) / "missing.txt"
    if missing.is_file():
        names = missing.read_text(encoding="utf-8").split()
        print(quoting.terminal(f"{len(names)} learners of the roster submitted nothing (listed in {missing}): "
                               f"{' '.join(names[:20])}", 2000))
    skipped = Path(args.out) / "skipped.txt"
    if skipped.is_file():
        lines = skipped.read_text(encoding="utf-8").splitlines()
        print(f"{len(lines)} files of the download were not used (each with the reason in {skipped}):")
        for line in lines[:20]:
            print("  " + quoting.terminal(line, 300))
    return 0
