"""unoserver, opening every document hidden. Run by unoserver's own interpreter (Debian's python3,
the one with `uno`) in place of unoserver's script; never imported by docgen itself.

unoserver 3.7 opens a document in a frame of its own (`_default`, without `Hidden`), and
LibreOffice then builds a view and a window's layout for it before the PDF export lays it out
again. Opened hidden, as Carbone opens them, a four-page list converted in 0.23-0.24 s instead of
0.32-0.36 s here (docs/BENCHMARKS.md §5). unoserver has no option for it, so the desktop it
talks to is wrapped: every load asks for a hidden document in a new frame. Everything else —
arguments, the XML-RPC API, timeouts — is unoserver's own.
"""

from __future__ import annotations

import sys
from typing import Any

from unoserver import converter, server  # type: ignore[import-untyped]


class _HiddenDesktop:
    def __init__(self, desktop: Any) -> None:
        self._desktop = desktop

    def loadComponentFromURL(  # the UNO method's name, as unoserver calls it
        self, url: str, frame: str, search_flags: int, properties: tuple[Any, ...]
    ) -> Any:
        hidden = converter.PropertyValue(Name="Hidden", Value=True)  # uno's, via unoserver
        return self._desktop.loadComponentFromURL(
            url, "_blank", search_flags, (*properties, hidden)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._desktop, name)


_unoserver_init = converter.UnoConverter.__init__


def _init_hidden(self: Any, *args: Any, **kwargs: Any) -> None:
    _unoserver_init(self, *args, **kwargs)
    self.desktop = _HiddenDesktop(self.desktop)


converter.UnoConverter.__init__ = _init_hidden

if __name__ == "__main__":
    sys.exit(server.main())
