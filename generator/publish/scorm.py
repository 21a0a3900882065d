"""A SCORM 1.2 package per lesson: ``imsmanifest.xml`` with the lesson page as the one SCO, the page with
a small bridge script (``scorm.js``) that reports the quiz score to the LMS, and the lesson's files."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

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


def build_scorm(
    out_zip: Path, *, identifier: str, title: str, page_html: str, files: dict[str, Path], version: str = "1"
) -> Path:
    """Write the package: the page (with the bridge) as ``index.html``, ``scorm.js`` and ``files``
    (file name -> path, e.g. the handout and the audio the page links to)."""
    entries: dict[str, bytes] = {
        "index.html": with_bridge(page_html).encode("utf-8"),
        "scorm.js": BRIDGE.read_bytes(),
    }
    for name, path in sorted(files.items()):
        if name not in entries:
            entries[name] = path.read_bytes()
    manifest = imsmanifest(identifier, title, list(entries), version=version)
    tmp = out_zip.with_name(f".{out_zip.name}.tmp")
    try:
        _write_zip(tmp, manifest, entries)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk (or anything else) leaves no half-written package
        raise
    os.replace(tmp, out_zip)
    return out_zip


def _write_zip(tmp: Path, manifest: str, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # imsmanifest.xml at the root, first, as LMS importers expect.
        for name, data in [("imsmanifest.xml", manifest.encode("utf-8")), *entries.items()]:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith((".mp3", ".docx", ".pptx")) else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
