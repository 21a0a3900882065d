"""The built-in formats, described for the registry (``generator.registry.formats``) exactly as a plugin
describes its own: a ``FormatSpec`` naming the file, the renderer class and how the format is shown.

Importing this module imports no renderer; each renderer's module is imported when it is first built.
The download labels of the built-ins live with the page, the site and the review app's other words;
``labels`` here only serve a format that those tables do not know.
"""

from __future__ import annotations

from generator.render.base import FormatSpec

HANDOUT = FormatSpec("handout", "handout.docx", "generator.render.handout:HandoutRenderer")
GUIDE = FormatSpec("guide", "guide.docx", "generator.render.guide:GuideRenderer")
SLIDES = FormatSpec("slides", "slides.pptx", "generator.render.slides:SlidesRenderer")
AUDIO = FormatSpec("audio", "narration.mp3", "generator.render.audio:AudioRenderer", speaks=True, pictured=False)
PAGE = FormatSpec("page", "index.html", "generator.render.page:PageRenderer", linked=False, listed=False,
                  last=True)
#: A video needs ffmpeg and minutes of work: its failure must not cost the lesson its handout (soft).
VIDEO = FormatSpec("video", "lesson.mp4", "generator.render.video:VideoRenderer", speaks=True, soft=True,
                   listed=False, side_files={"captions": "captions.vtt"}, also_published=("captions.srt",))
CARD = FormatSpec("card", "card.docx", "generator.render.card:CardRenderer", listed=False)
