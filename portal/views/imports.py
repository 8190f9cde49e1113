import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from customers import import_jobs
from customers.imports import spreadsheet_cell
from customers.models import CustomerImport
from customers.selectors import customer_import_get, customer_imports_recent
from portal.access import portal_view
from portal.forms import ImportForm

SHOWN_ERRORS = 200


def _job_or_404(request, import_id) -> CustomerImport:
    try:
        return customer_import_get(merchant=request.merchant, import_id=import_id)
    except CustomerImport.DoesNotExist:
        raise Http404("No such import.") from None


@portal_view
@require_http_methods(["GET", "POST"])
def import_upload_view(request):
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if request.method == "POST" and form.is_valid():
        try:
            job = import_jobs.import_start(
                merchant=request.merchant, user=request.user, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.info(request, f"Importing “{job.filename}”: this page shows its progress.")
            return redirect("portal:import_status", import_id=job.pk)
    recent = customer_imports_recent(merchant=request.merchant)
    status = 400 if form.errors else 200
    return render(request, "portal/imports/upload.html", {"form": form, "recent": recent}, status=status)


@portal_view
def import_status_view(request, import_id):
    job = _job_or_404(request, import_id)
    percent = None
    if job.rows_total:
        percent = min(100, round(100 * job.rows_read / job.rows_total))
    return render(
        request,
        "portal/imports/status.html",
        {
            "job": job,
            "percent": percent,
            "stalled": import_jobs.is_stalled(job),
            "errors": job.errors[:SHOWN_ERRORS],
            "more_errors": max(len(job.errors) - SHOWN_ERRORS, 0),
        },
    )


@portal_view
def import_errors_view(request, import_id):
    """Every reported bad line of an import, one CSV row per problem."""
    job = _job_or_404(request, import_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "column", "code", "message"])
    for row in job.errors:
        for error in row["errors"]:
            # Column names and messages echo the uploaded file: never let a spreadsheet run them.
            cells = [error.get("field") or "", error.get("code", ""), error.get("message", "")]
            writer.writerow([row["line"], *map(spreadsheet_cell, cells)])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-errors-{job.pk}.csv"'
    return response
