from django.shortcuts import render

from .home import stats_for, todos_for


def home(request):
    actor = request.actor
    return render(request, "core/home.html", {"stats": stats_for(actor), "todos": todos_for(actor)})
