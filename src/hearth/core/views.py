from django.shortcuts import render

from .home import charts_for, stats_for, todos_for


def home(request):
    actor = request.actor
    charts = [
        {"id": f"chart-{i}", "title": c.title, "labels": c.labels, "values": c.values}
        for i, c in enumerate(charts_for(actor))
    ]
    return render(
        request, "core/home.html", {"stats": stats_for(actor), "todos": todos_for(actor), "charts": charts}
    )
