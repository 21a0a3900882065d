"""A declarative sketch of one phone screen: which app, which screen, what the learner sees, what to tap.

Steps carry a sketch (in the content library, and in the model's structured output) so every hands-on
step can be shown as a drawn phone screen with the control to tap ringed in red. Drawn, not captured:
screenshots are copyrighted and go stale with every app update.

    screen:
      app: Zalo
      title: Quyền riêng tư
      kind: list
      items: ["Hiện ngày sinh", "Cho phép người lạ tìm thấy [bật]", "Chặn tin nhắn từ người lạ"]
      tap: "Cho phép người lạ tìm thấy [bật]"

An item ending in ``[bật]``/``[tắt]`` (``[on]``/``[off]``) is drawn as a switch. ``tap`` names one of the
items, or one of ``buttons`` (the screen's buttons, e.g. a dialog's "Xong").
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from generator.schema import Strict

ScreenKind = Literal["list", "menu", "dialog", "form", "chat", "home", "browser", "keypad", "message", "camera"]
SCREEN_KINDS: tuple[str, ...] = ScreenKind.__args__  # type: ignore[attr-defined]

_SWITCH = re.compile(r"\s*\[(bật|tắt|on|off)\]\s*$", re.I)


def switch_state(label: str) -> tuple[str, bool | None]:
    """``("Tìm qua số điện thoại", True)`` for ``"Tìm qua số điện thoại [bật]"``; ``(label, None)`` when
    the item is not a switch."""
    m = _SWITCH.search(label)
    if not m:
        return label.strip(), None
    return label[: m.start()].strip(), m.group(1).lower() in ("bật", "on")


class ScreenSketch(Strict):
    """One phone screen as a learner sees it at a step, with the control to tap."""

    app: str = Field(min_length=1, max_length=40, description="App name in the top bar, e.g. 'Zalo'")
    title: str = Field(default="", max_length=60, description="The screen's title, e.g. 'Quyền riêng tư'")
    kind: ScreenKind = Field(default="list", description="Layout: list, menu, dialog, form, chat, home, ...")
    items: list[str] = Field(min_length=1, max_length=8,
                             description="What the learner sees, top to bottom, in the app's own words; "
                                         "a switch ends in [on]/[off] ([bật]/[tắt])")
    buttons: list[str] = Field(default_factory=list, max_length=3, description="Buttons at the bottom")
    tap: str = Field(min_length=1, description="The item or button to tap, exactly as written above")
    note: str = Field(default="", max_length=200, description="A message or banner shown on the screen")

    @field_validator("items", "buttons")
    @classmethod
    def _labels(cls, v: list[str]) -> list[str]:
        for label in v:
            if not label.strip():
                raise ValueError("an item label is empty")
            if len(label) > 60:
                raise ValueError(f"item label is longer than 60 characters: {label[:40]!r}…")
        return v

    @model_validator(mode="after")
    def _tap_is_shown(self) -> ScreenSketch:
        if self.tap not in (*self.items, *self.buttons):
            raise ValueError(f"tap {self.tap!r} must be one of the items or buttons")
        return self

    def target_index(self) -> tuple[str, int]:
        """Where the tap target is: ``("items", i)`` or ``("buttons", i)``."""
        if self.tap in self.items:
            return "items", self.items.index(self.tap)
        return "buttons", self.buttons.index(self.tap)

    def alt_text(self, lang: str) -> str:
        """What the picture shows, for a learner who cannot see it: the screen and what to tap."""
        target, _ = switch_state(self.tap)
        where = f"{self.app}" + (f", {self.title}" if self.title else "")
        if lang == "vi":
            return f"Màn hình {where}: chạm vào “{target}”."
        return f"{where} screen: tap “{target}”."
