"""What a terminal shows for a command's bytes: a small line-screen model.

Programs that draw progress rewrite lines in place: a carriage return goes back to the start of
the line, ``ESC[nA``/``ESC[nB`` move the cursor up and down, ``ESC[K`` erases. ``docker pull``
draws one line per layer and redraws them all that way, so reading only what follows the last
carriage return of each line would lose every layer line. `render` plays the bytes on an endless
screen — rows and columns, no width — and returns the rows as a reader's terminal ends up
showing them. Other escape sequences (colours, titles, bracketed paste) are dropped.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(
    r"\x1b\[(?P<args>[0-9;?]*)[ -/]*(?P<final>[@-~])"   # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"                # OSC
    r"|\x1b[()*+][0-9A-Za-z]"                            # charset
    r"|\x1b[@-Z\\-_=>]"                                   # other two-byte escapes
    r"|(?P<c0>[\x00-\x08\x0a-\x1f\x7f])"                 # C0 controls (tab is text)
)


_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class _Screen:
    """Rows of characters and a cursor."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = [[]]
        self.row = 0
        self.col = 0

    def _line(self) -> list[str]:
        while len(self.rows) <= self.row:
            self.rows.append([])
        return self.rows[self.row]

    def write(self, text: str) -> None:
        line = self._line()
        if self.col > len(line):
            line.extend(" " * (self.col - len(line)))
        line[self.col:self.col + len(text)] = text
        self.col += len(text)

    def control(self, char: str) -> None:
        if char == "\n":
            self.row, self.col = self.row + 1, 0
            self._line()
        elif char == "\r":
            self.col = 0
        elif char == "\b":
            self.col = max(0, self.col - 1)

    def csi(self, args: str, final: str) -> None:
        count = int(args) if args.isdigit() else 1
        if final == "A":
            self.row = max(0, self.row - count)
        elif final == "B":
            self.row += count
            self._line()
        elif final == "C":
            self.col += count
        elif final == "D":
            self.col = max(0, self.col - count)
        elif final == "G":
            self.col = count - 1
        elif final == "K":
            line = self._line()
            if args == "2":
                line.clear()
            elif args in ("", "0"):
                del line[self.col:]
            else:
                line[:self.col] = " " * min(self.col, len(line))

    def text(self) -> str:
        return "\n".join("".join(row) for row in self.rows)


def render(text: str) -> str:
    """``text`` (a terminal's input) as the terminal shows it; ``\\n`` between rows."""
    if "\x1b" not in text and "\r" not in text and "\b" not in text:
        return _INVISIBLE.sub("", text)  # nothing moves the cursor back: the text shows
    screen = _Screen()
    position = 0
    for found in _CONTROL.finditer(text):
        if found.start() > position:
            screen.write(text[position:found.start()])
        position = found.end()
        if found["c0"] is not None:
            screen.control(found["c0"])
        elif found["final"] is not None:
            screen.csi(found["args"], found["final"])
    if position < len(text):
        screen.write(text[position:])
    return screen.text()
