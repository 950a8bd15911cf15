"""The reports page: the board figures for a period, a chart by month, and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from flask import Response, render_template, request
from werkzeug.exceptions import BadRequest

from case_store.stats import SOURCES, board_figures, local_days, monthly_by_source
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.chart import COLOURS, build_chart
from webhooks.dashboard.forms import PeriodForm
from webhooks.reports import SOURCE_NAMES, as_csv, as_text
from webhooks.runtime import current_runtime


def _period() -> tuple[PeriodForm, date | None, date | None]:
    """The chosen period: the last twelve months unless the form says otherwise."""
    form = PeriodForm(request.args)
    if request.args and not form.validate():
        raise BadRequest("Give dates as YYYY-MM-DD.")
    runtime = current_runtime()
    today = runtime.conversations.clock().astimezone(runtime.profile.zone).date()
    start = form.start.data if request.args else today.replace(day=1) - timedelta(days=334)
    end = form.end.data if request.args else today
    if start and end and start > end:
        raise BadRequest("The period must start before it ends.")
    if not request.args:
        form.start.data, form.end.data = start.replace(day=1), end
    return form, form.start.data, form.end.data


def _figures(start: date | None, end: date | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The board figures and the monthly counts, for days in the service's time zone."""
    runtime = current_runtime()
    period = local_days(start, end, runtime.profile.zone)
    with runtime.db.transaction() as session:
        figures = board_figures(session, period, runtime.conversations.clock())
        monthly = monthly_by_source(session, period)
    return figures, monthly


@bp.get("/reports")
def reports() -> str:
    """The board's figures and the chart."""
    form, start, end = _period()
    figures, monthly = _figures(start, end)
    service = current_runtime().profile.service["name"]
    return render_template(
        "dashboard/reports.html",
        form=form,
        figures=figures,
        summary=as_text(figures, service),
        chart=build_chart(monthly, SOURCE_NAMES),
        monthly=monthly,
        sources=SOURCES,
        source_names=SOURCE_NAMES,
        colours=COLOURS,
    )


@bp.get("/reports.csv")
def reports_csv() -> Response:
    """The same figures as CSV, then the monthly counts."""
    _form, start, end = _period()
    figures, monthly = _figures(start, end)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for month, counts in monthly.items():
        writer.writerows(("by_month", f"{month} {source}", counts[source]) for source in SOURCES)
    body = as_csv(figures) + "\n" + buffer.getvalue()
    name = f"rj-report-{start or 'start'}-to-{end or 'now'}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
