"""The dashboard: host and per-model live figures, totals, and history charts that survive a restart.

Live figures are bound to the store; charts load their window from SQLite and then append the
samples the store announces, so nothing here polls.
"""

from __future__ import annotations

from nicegui import ui

from protocol.messages import HostSample, MetricsSample
from store.history import (
    HOST_SERIES_NAMES,
    MODEL_SERIES_NAMES,
    Window,
    host_history,
    host_point,
    model_history,
    model_point,
)
from ui.components.history_chart import HistoryChart
from ui.components.host_panel import host_panel
from ui.components.model_figures import model_figures
from ui.components.server_panel import about_server
from ui.page import page
from ui.services import Services
from ui.theme import frame

GRID = "w-full gap-4 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"


def register(services: Services) -> None:
    deck = services.deck

    @page("/dashboard")
    async def dashboard_page() -> None:
        @ui.refreshable
        def figures() -> None:
            states = deck.in_order()
            if not states:
                ui.label("No models yet.").classes("opacity-70")
            with ui.grid().classes(GRID):
                for state in states:
                    model_figures(state)

        with frame("Dashboard", services):
            ui.label("Dashboard").classes("text-2xl font-bold")
            host_panel(deck.monitor.host, deck.monitor.totals)
            about_server(deck.link.server)
            ui.label("Models").classes("text-xl font-bold")
            figures()
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("History").classes("text-xl font-bold")
                window = ui.toggle({w: w.label for w in Window}, value=Window.MINUTES_15).mark("chart-window")
            with ui.grid().classes("w-full gap-4 grid-cols-1 lg:grid-cols-2"):
                with ui.card().classes("w-full min-w-0"):
                    ui.label("Host").classes("font-bold")
                    host_chart = HistoryChart(HOST_SERIES_NAMES, "%").mark("host-chart")
                with ui.card().classes("w-full min-w-0"):
                    choices = {s.uid: s.name for s in deck.in_order()}
                    running = [s.uid for s in deck.in_order() if s.status.can_stop]
                    chosen = ui.select(choices, value=next(iter(running or choices), None),
                                       label="Model").classes("w-full").mark("chart-model")
                    model_chart = HistoryChart(MODEL_SERIES_NAMES).mark("model-chart")

        async def load() -> None:
            host_chart.show(await host_history(window.value), window.value)
            if chosen.value is None:
                model_chart.show({}, window.value)
            else:
                model_chart.show(await model_history(chosen.value, window.value), window.value)

        def host_sampled(sample: HostSample) -> None:
            host_chart.append(sample.at, host_point(sample))

        def model_sampled(uid: str, sample: MetricsSample) -> None:
            if uid == chosen.value:
                model_chart.append(sample.at, model_point(sample))

        def models_changed() -> None:
            figures.refresh()
            options = {s.uid: s.name for s in deck.in_order()}
            chosen.set_options(options, value=chosen.value if chosen.value in options else None)

        await load()
        window.on_value_change(load)
        chosen.on_value_change(load)
        deck.monitor.host_sampled.subscribe(host_sampled)
        deck.monitor.model_sampled.subscribe(model_sampled)
        deck.added.subscribe(models_changed)
        deck.removed.subscribe(models_changed)
