"""A line chart of one history: loaded whole for a window, then extended point by point as samples arrive."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from store.history import Series, Window

# ECharts draws text and grid lines in fixed colours, not the page's: a mid grey and a translucent one
# read on the light and the dark theme alike (text about 4:1 against both backgrounds).
TEXT = {"color": "#7a818c"}
GRID_LINE = {"lineStyle": {"color": "rgba(128, 128, 128, 0.25)"}}


class HistoryChart(ui.echart):
    def __init__(self, names: tuple[str, ...], unit: str = "") -> None:
        super().__init__({
            "animation": False,
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0, "type": "scroll", "textStyle": TEXT, "data": []},
            "grid": {"left": 8, "right": 8, "top": 32, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "time", "axisLabel": {"hideOverlap": True, **TEXT},  # labels must not collide
                      "axisLine": GRID_LINE},
            "yAxis": {"type": "value", "name": unit, "min": 0, "nameTextStyle": TEXT, "axisLabel": TEXT,
                      "splitLine": GRID_LINE},
            "series": [{"name": name, "type": "line", "showSymbol": False, "connectNulls": False, "data": []}
                       for name in names],
        })
        self.classes("w-full h-64")
        self.window = Window.MINUTES_15
        self.names = names

    def _legend_lists(self, filled: set[str]) -> None:
        """Only series with a value get a legend entry: no "GPU %" on a machine without a GPU."""
        self.options["legend"]["data"] = [name for name in self.names if name in filled]

    def show(self, series: Series, window: Window) -> None:
        self.window = window
        for entry in self.options["series"]:
            entry["data"] = [list(point) for point in series.get(entry["name"], [])]
        self._legend_lists({entry["name"] for entry in self.options["series"]
                            if any(value is not None for _, value in entry["data"])})
        self.update()

    def append(self, at: datetime, values: dict[str, float | None]) -> None:
        """One live sample; skipped when it falls in the bucket of the last point (the window's resolution)."""
        at_ms = int(at.timestamp() * 1000)
        start_ms = int(self.window.start().timestamp() * 1000)
        bucket_ms = self.window.bucket_s * 1000
        for entry in self.options["series"]:
            data = entry["data"]
            if data and at_ms // bucket_ms <= data[-1][0] // bucket_ms:
                return
            data.append([at_ms, values.get(entry["name"])])
            while data and data[0][0] < start_ms:
                data.pop(0)
        listed = set(self.options["legend"]["data"])
        if new := {name for name, value in values.items() if value is not None} - listed:
            self._legend_lists(listed | new)
        self.update()
