"""A SCORM 1.2 package per lesson: ``imsmanifest.xml`` with the lesson page as the one SCO, the page with
a small bridge script (``scorm.js``) that reports the quiz score to the LMS, and the lesson's files.

In a release each package is a folder (``scorm/<id>/``) whose lesson files are hard links to the site's
own (``lessons/<id>/``), so the bytes are on disk once; where the filesystem cannot link, they are copied.
``zip_scorm`` makes the .zip an LMS imports from that folder on demand, with the same bytes every time.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from generator.fsutil import write_text_atomic

BRIDGE = Path(__file__).resolve().parent / "templates" / "scorm.js"
MASTERY_SCORE = 80
#: A fixed timestamp for zip entries, so the same inputs give the same bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def xml_id(text: str) -> str:
    """An XML identifier (NCName) from ``text``."""
    return (
        re.sub(r"[^A-Za-z0-9_.-]", "_", text)
        if text[:1].isalpha()
        else "_" + re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    )


def with_bridge(page_html: str, script: str = "scorm.js") -> str:
    """The page with the SCORM bridge loaded at the end of its body (after the page's own quiz script)."""
    tag = f'<script src="{script}"></script>\n'
    i = page_html.rfind("</body>")
    return page_html[:i] + tag + page_html[i:] if i >= 0 else page_html + tag


def imsmanifest(identifier: str, title: str, files: list[str], *, version: str = "1") -> str:
    """``imsmanifest.xml`` for one SCO whose launch page is ``index.html``; lists every file."""
    ident = xml_id(identifier)
    file_lines = "\n".join(f"        <file href={quoteattr(f)}/>" for f in files)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier={quoteattr(ident)} version={quoteattr(version)}
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="org-{ident}">
    <organization identifier="org-{ident}">
      <title>{escape(title)}</title>
      <item identifier="item-{ident}" identifierref="sco-{ident}" isvisible="true">
        <title>{escape(title)}</title>
        <adlcp:masteryscore>{MASTERY_SCORE}</adlcp:masteryscore>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="sco-{ident}" type="webcontent" adlcp:scormtype="sco" href="index.html">
{file_lines}
    </resource>
  </resources>
</manifest>
"""


def link_or_copy(src: Path, dst: Path) -> bool:
    """``dst`` as a hard link to ``src`` (True), or a copy where the filesystem refuses links (False)."""
    try:
        os.link(src, dst)
        return True
    except OSError:  # another filesystem (EXDEV), no link support (EPERM, ENOTSUP), too many links
        shutil.copyfile(src, dst)
        return False


def add_bridge(folder: Path, bridge: Path | None = None) -> Path:
    """Load the bridge in ``folder/index.html`` and put ``scorm.js`` beside it (a hard link to ``bridge``,
    another lesson's copy, when given). Outside an LMS the bridge does nothing, so the site's page and
    the package's can be one file."""
    page = folder / "index.html"
    write_text_atomic(page, with_bridge(page.read_text(encoding="utf-8")))
    target = folder / "scorm.js"
    if bridge is None:
        shutil.copyfile(BRIDGE, target)
    else:
        link_or_copy(bridge, target)
    return target


def build_scorm_dir(
    out_dir: Path, *, identifier: str, title: str, files: dict[str, Path], version: str = "1"
) -> list[str]:
    """Write the package as a folder: ``imsmanifest.xml`` and ``files`` (file name -> path, hard-linked),
    which hold ``index.html`` (the page with the bridge, see ``add_bridge``) and ``scorm.js``. Returns the
    package's file names, the manifest first."""
    missing = {"index.html", "scorm.js"} - set(files)
    if missing:
        raise ValueError(f"a SCORM package needs {', '.join(sorted(missing))}")
    out_dir.mkdir(parents=True)
    names = ["index.html", "scorm.js", *sorted(n for n in files if n not in ("index.html", "scorm.js"))]
    write_text_atomic(out_dir / "imsmanifest.xml", imsmanifest(identifier, title, names, version=version))
    for name in names:
        link_or_copy(files[name], out_dir / name)
    return ["imsmanifest.xml", *names]


def zip_scorm(package_dir: Path, out_zip: Path) -> Path:
    """The package folder as the .zip an LMS imports (``imsmanifest.xml`` first; media stored, text
    deflated; fixed timestamps, so the same folder always gives the same bytes). Atomic."""
    names = _manifest_files(package_dir)
    tmp = out_zip.with_name(f".{out_zip.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in ["imsmanifest.xml", *names]:
                info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                info.compress_type = (
                    zipfile.ZIP_STORED if name.endswith((".mp3", ".mp4", ".docx", ".pptx")) else zipfile.ZIP_DEFLATED
                )
                info.external_attr = 0o644 << 16
                with open(package_dir / name, "rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, out_zip)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out_zip


def _manifest_files(package_dir: Path) -> list[str]:
    """The files ``imsmanifest.xml`` lists, in its order."""
    import xml.etree.ElementTree as ET

    root = ET.parse(package_dir / "imsmanifest.xml").getroot()
    return [el.get("href", "") for el in root.iter("{http://www.imsproject.org/xsd/imscp_rootv1p1p2}file")]
