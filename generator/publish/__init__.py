"""Publishing: immutable releases of approved lessons — their files, a manifest with checksums, a static
site and a SCORM 1.2 package per lesson — and verification of a release against its manifest."""
