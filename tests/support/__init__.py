"""Helpers the tests share, kept out of ``conftest.py`` so they are imported like any module:

- ``drafts``: the repository root and real offline drafts (``offline_lesson``);
- ``fakes``: the fakes behind the seams (``FakeTTS``, a silent TTS that records its calls);
- ``chat``: ``RecordingChatModel``, langchain's fake chat model keeping every prompt it was sent;
- ``web``: a seeded review-app workspace, the app over it and sign-in helpers (a pytest plugin: list
  ``pytest_plugins = ("tests.support.web",)`` in a test module to get its fixtures).
"""
