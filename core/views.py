"""The project's 404 and 500 handlers: problem documents under the API's paths, pages elsewhere."""

from django.shortcuts import render

from core.middleware import is_api_path
from core.problems import INTERNAL_ERROR, NOT_FOUND, problem_response


def not_found(request, exception=None):
    if is_api_path(request.path):
        return problem_response(request, NOT_FOUND)
    return render(request, "404.html", status=404)


def server_error(request):
    if is_api_path(request.path):
        return problem_response(request, INTERNAL_ERROR, detail="An unexpected error occurred.")
    return render(request, "500.html", status=500)
