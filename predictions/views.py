from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Prediction


def history(request: HttpRequest) -> HttpResponse:
    predictions = Prediction.objects.filter(owner=request.user)
    page = Paginator(predictions, 20).get_page(request.GET.get("page"))
    return render(request, "predictions/history.html", {"page": page})


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    prediction = get_object_or_404(Prediction, pk=pk, owner=request.user)
    return render(request, "predictions/detail.html", {"prediction": prediction})
