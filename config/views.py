from django.shortcuts import render

from config.middleware import is_api_path
from config.problems import problem_response


def not_found(request, exception=None):
    if is_api_path(request.path):
        return problem_response(request, status=404, slug="not-found", title="Not Found", detail="No such resource.")
    return render(request, "404.html", status=404)


def server_error(request):
    if is_api_path(request.path):
        return problem_response(
            request,
            status=500,
            slug="internal-error",
            title="Internal Server Error",
            detail="An unexpected error occurred.",
        )
    return render(request, "500.html", status=500)
