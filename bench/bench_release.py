"""Releases without duplicate bytes: a real release's size on disk ÷ the sum of the unique files it holds.

    .venv/bin/python bench/bench_release.py [--competences 12] [--video] [--no-write]

Builds offline lessons (the given number of competences × elderly, farmers × level 1 × vi, the demo's
formats: handout, guide, slides, audio, page; with --video the narrated video too) through the batch
engine, approves them all and publishes one release. Size on disk counts every file once per inode (as
`du` does: a hard link is not more bytes); unique files are the distinct contents by sha256. `publish
verify` is timed on the same release (it reads every byte, each file on disk once).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

from common import write_section


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--competences", type=int, default=12, help="competences (× 2 groups = lessons)")
    parser.add_argument("--video", action="store_true", help="add the narrated video to every lesson")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    ws = Path(tempfile.mkdtemp(prefix="bench-release-"))
    os.environ["HOCVU_WORKSPACE"] = str(ws)
    from generator.batch.build import plan_build, run_build
    from generator.batch.run import render_workers_default
    from generator.batch.spec import BatchSpec
    from generator.config import load_settings
    from generator.frameworks import Library
    from generator.publish.manifest import verify_release
    from generator.publish.release import build_release
    from generator.review.store import ReviewStore

    settings, lib = load_settings(ws), Library(ws)
    codes = [c.code for c in lib.framework("vn-dcf-2025").competences][: args.competences]
    formats = ["handout", "guide", "slides", "audio", "page"] + (["video"] if args.video else [])
    spec = BatchSpec(name="release", framework="vn-dcf-2025", groups=["elderly", "farmers"], competences=codes,
                     levels=[1], languages=["vi"], formats=formats, backend="offline", concurrency=4)
    with ReviewStore.open(settings) as store:
        t = time.perf_counter()
        plan = plan_build(spec, lib, settings, store, force=True)
        report = run_build(plan, lib, settings, store, "bench", 4, render_workers=render_workers_default(),
                           force=True)
        build_s = time.perf_counter() - t
        store.add_user("rev", "reviewer")
        ids = [r.id for r in report.lessons if r.status == "generated"]
        for lid in ids:
            store.approve(lid, "rev")
        t = time.perf_counter()
        release = build_release(store, lib, settings, "bench", by="bench")
        publish_s = time.perf_counter() - t
        expected = store.get_release("bench").manifest_sha256
    root = release.path
    t = time.perf_counter()
    verified = verify_release(root, expected)
    verify_s = time.perf_counter() - t
    assert verified.ok, verified.problems()

    files = [p for p in root.rglob("*") if p.is_file()]
    by_inode: dict[tuple[int, int], int] = {}
    by_content: dict[str, int] = {}
    for p in files:
        st = p.stat()
        by_inode[(st.st_dev, st.st_ino)] = st.st_size
        by_content[hashlib.sha256(p.read_bytes()).hexdigest()] = st.st_size
    disk, unique, names = sum(by_inode.values()), sum(by_content.values()), sum(p.stat().st_size for p in files)
    du = int(subprocess.run(["du", "-sb", str(root)], capture_output=True, text=True, check=True).stdout.split()[0])
    scorm_own = sum(p.stat().st_size for p in (root / "scorm").rglob("imsmanifest.xml"))
    ratio = disk / unique
    n = len(release.lessons)
    body = f"""Command: `.venv/bin/python bench/bench_release.py{' --video' if args.video else ''}`. A release of {n}
offline lessons ({len(codes)} competences × elderly, farmers × level 1 × vi; formats {', '.join(formats)}), built
by the batch engine, every lesson approved, published once.

Method: size on disk = the sizes of the release's files counted once per inode (hard links share one; `du -sb`
agrees: {du / 1e6:.2f} MB with its directory entries); unique files = the distinct contents by sha256. Each
lesson's SCORM package (`scorm/<id>/`) holds hard links to the site's own files (`lessons/<id>/`: the page,
which carries the LMS bridge, `scorm.js` and the media) and one file of its own, `imsmanifest.xml`; its .zip
for an LMS is made from that folder on demand (`generator.publish.scorm.zip_scorm`, same bytes every time).

| measure | value | goal |
|---|---|---|
| release size on disk ÷ sum of unique files | {ratio:.3f} | ≤ 1.1 ({'met' if ratio <= 1.1 else 'not met'}) |
| size on disk | {disk / 1e6:.2f} MB ({disk / n / 1e6:.3f} MB per lesson) | |
| sum of unique files | {unique / 1e6:.2f} MB | |
| every file name counted (what copies would take, zips not included) | {names / 1e6:.2f} MB | |
| SCORM packages' own bytes (the manifests) | {scorm_own / 1e3:.1f} kB | |
| publish (select, verify, assemble, manifest, place) | {publish_s:.2f} s | |
| `publish verify` (every byte read, each file on disk once) | {verify_s:.2f} s, {verified.checked} files | |
| building the {n} lessons first | {build_s:.1f} s | |
"""
    print(body)
    if not args.no_write:
        write_section("Releases: bytes on disk", body)


if __name__ == "__main__":
    main()
