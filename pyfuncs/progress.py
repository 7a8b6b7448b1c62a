"""The command line's progress display: a bar with the step and a percentage on a terminal.

A job reports its steps through ``Book.progress(step, total, text)``; the command line maps them
into its own span of a whole run (opening, the job, saving) with :meth:`ProgressBar.steps` and
shows, on standard error::

    回访保修 [##########..............]  42%  刷新报修台账（4/5）  3秒

- Only on a terminal (``stream.isatty()``); never under ``--json``; nothing for a run that ends
  within ``delay`` seconds (about a second), so quick commands print exactly what they printed.
- While one step takes long, the elapsed seconds keep counting (a background thread redraws).
- The line is erased at the end, so the bar never mixes with the output of the command.
- ``lines=True`` (``--verbose`` when standard error is not a terminal): one plain line per step.

Example (a stream that says it is a terminal; no delay)::

    >>> import io
    >>> class Tty(io.StringIO):
    ...     def isatty(self): return True
    >>> out = Tty()
    >>> with ProgressBar(out, delay=0, interval=60) as bar:
    ...     bar.update(0.5, "刷新报修台账（4/5）")
    >>> "50%  刷新报修台账（4/5）" in out.getvalue()
    True
"""
from __future__ import annotations

import os
import sys
import threading
import time
import unicodedata
from typing import Callable, TextIO

#: seconds before the bar appears (``AFTERCARE_PROGRESS_DELAY`` overrides it, e.g. 0 in tests)
DELAY = 1.0
TITLE = "回访保修"


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (Chinese characters take two).

    >>> display_width("abc"), display_width("刷新")
    (3, 4)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _default_delay() -> float:
    try:
        return float(os.environ.get("AFTERCARE_PROGRESS_DELAY", DELAY))
    except ValueError:
        return DELAY


class ProgressBar:
    """A progress line on ``stream`` (default: standard error), shown only where it helps."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None, lines: bool = False,
                 delay: float | None = None, interval: float = 0.25, width: int = 24,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            try:
                enabled = bool(self.stream.isatty())
            except (AttributeError, ValueError):
                enabled = False
        self.bar = bool(enabled)
        self.lines = bool(lines) and not self.bar
        self.delay = _default_delay() if delay is None else delay
        self.interval = interval
        self.width = width
        self.clock = clock
        self.start = clock()
        self.fraction = 0.0
        self.text = ""
        self.shown = 0  # width of the line on screen (0: nothing drawn)
        self._last_line = ""
        self._drawn = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.bar:
            self._thread = threading.Thread(target=self._tick, name="aftercare-progress", daemon=True)
            self._thread.start()

    # ---- reporting ------------------------------------------------------------------------------
    def update(self, fraction: float, text: str) -> None:
        """The run is ``fraction`` (0–1) done and now doing ``text``."""
        with self._lock:
            self.fraction = min(max(float(fraction), self.fraction), 1.0)  # never goes back
            self.text = text
            if self.bar:
                self._draw()
            elif self.lines and text != self._last_line:
                self._last_line = text
                self._write(f"[{self.fraction:4.0%}] {text}\n")

    def steps(self, lo: float, hi: float, prefix: str = "") -> Callable[[int, int, str], None]:
        """A ``Book.on_progress`` callback: step ``step`` of ``total`` starts at its share of
        ``lo``–``hi``."""
        def on_progress(step: int, total: int, text: str) -> None:
            total = max(int(total), 1)
            done = min(max(int(step) - 1, 0), total) / total
            self.update(lo + (hi - lo) * done, f"{prefix}{text}（{step}/{total}）")

        return on_progress

    # ---- drawing --------------------------------------------------------------------------------
    def line(self) -> str:
        filled = int(round(self.fraction * self.width))
        secs = int(self.clock() - self.start)
        return (f"{TITLE} [{'#' * filled}{'.' * (self.width - filled)}] {self.fraction:4.0%}  {self.text}"
                + (f"  {secs}秒" if secs else ""))

    def _draw(self) -> None:
        if self.clock() - self.start < self.delay:
            return
        text = self.line()
        if text == self._drawn:
            return
        w = display_width(text)
        self._write("\r" + text + " " * max(self.shown - w, 0))
        self._drawn, self.shown = text, w

    def _write(self, s: str) -> None:
        try:
            self.stream.write(s)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken terminal must not stop the job
            self.bar = self.lines = False

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self.bar:
                    self._draw()

    def close(self) -> None:
        """Stop; erase the bar's line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self.bar and self.shown:
                self._write("\r" + " " * self.shown + "\r")
            self.shown = 0
            self.bar = False

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NoProgress:
    """Stands in for a bar where none is shown (under ``--json``, or for a library caller)."""

    def update(self, fraction: float, text: str) -> None:
        pass

    def steps(self, lo: float, hi: float, prefix: str = "") -> Callable[[int, int, str], None]:
        return lambda step, total, text: None

    def close(self) -> None:
        pass

    def __enter__(self) -> "NoProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass
