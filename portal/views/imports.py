import csv
import io

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from customers import export_jobs, import_jobs
from customers.imports import spreadsheet_cell
from customers.models import CustomerExport, CustomerImport
from customers.selectors import (
    customer_export_get,
    customer_exports_recent,
    customer_import_get,
    customer_imports_recent,
)
from portal.access import portal_view
from portal.forms import CustomerFilterForm, ImportForm

SHOWN_ERRORS = 200


def _job_or_404(request, import_id) -> CustomerImport:
    try:
        return customer_import_get(merchant=request.merchant, import_id=import_id)
    except CustomerImport.DoesNotExist:
        raise Http404("No such import.") from None


def _export_or_404(request, export_id) -> CustomerExport:
    try:
        return customer_export_get(merchant=request.merchant, export_id=export_id)
    except CustomerExport.DoesNotExist:
        raise Http404("No such export.") from None


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
    context = {
        "form": form,
        "recent": customer_imports_recent(merchant=request.merchant),
        "exports": customer_exports_recent(merchant=request.merchant),
    }
    return render(request, "portal/imports/upload.html", context, status=400 if form.errors else 200)


def _import_state(job: CustomerImport) -> dict:
    progress = import_jobs.import_progress(job)
    return {
        "status": job.status,
        "finished": job.status in CustomerImport.FINISHED,
        "rows_done": progress.rows_done,
        "rows_refused": progress.rows_refused,
        "rows_total": progress.rows_total,
        "percent": progress.percent,
        "rows_per_second": round(progress.rows_per_second) if progress.rows_per_second is not None else None,
        "time_left": import_jobs.describe_duration(progress.seconds_left),
        "created": job.created_count,
        "updated": job.updated_count,
        "cancel_requested": job.cancel_requested,
    }


@portal_view
def import_status_view(request, import_id):
    job = _job_or_404(request, import_id)
    return render(
        request,
        "portal/imports/status.html",
        {
            "job": job,
            "state": _import_state(job),
            "errors": job.errors[:SHOWN_ERRORS],
            "more_errors": max(len(job.errors) - SHOWN_ERRORS, 0),
        },
    )


@portal_view
def import_status_json_view(request, import_id):
    """What the status page polls while the import runs (static/js/portal.js)."""
    return JsonResponse(_import_state(_job_or_404(request, import_id)))


@portal_view
@require_POST
def import_cancel_view(request, import_id):
    job = import_jobs.import_cancel(merchant=request.merchant, job=_job_or_404(request, import_id))
    if job.status == CustomerImport.Status.CANCELLED:
        messages.info(request, "Import cancelled.")
    elif job.status in CustomerImport.FINISHED:
        messages.info(request, "The import had already finished.")
    else:
        messages.info(request, "Cancelling: the import stops after the batch it is writing, which is kept.")
    return redirect("portal:import_status", import_id=job.pk)


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


# --- exports ---------------------------------------------------------------------------------------------------


@portal_view
@require_POST
def export_start_view(request):
    """Queue an export of the list as filtered and sorted on screen (the filters come in the query string)."""
    filter_form = CustomerFilterForm(request.GET or None)
    if filter_form.is_bound and not filter_form.is_valid():
        context = {"filter_form": filter_form, "rows": [], "filtered": True}
        return render(request, "portal/customers/list.html", context, status=400)
    export = export_jobs.export_start(
        merchant=request.merchant,
        user=request.user,
        filters=filter_form.filters(),
        sort=filter_form.chosen_sort(),
    )
    messages.info(request, "Exporting: the download link appears on this page when the file is ready.")
    return redirect("portal:export_status", export_id=export.pk)


def _export_state(export: CustomerExport) -> dict:
    total = export.rows_total
    return {
        "status": export.status,
        "finished": export.status not in (CustomerExport.Status.QUEUED, CustomerExport.Status.RUNNING),
        "rows_done": export.rows_written,
        "rows_total": total,
        "percent": min(100, round(100 * export.rows_written / total)) if total else None,
        "download_url": reverse("portal:export_download", kwargs={"export_id": export.pk})
        if export.status == CustomerExport.Status.DONE
        else None,
    }


@portal_view
def export_status_view(request, export_id):
    export = _export_or_404(request, export_id)
    context = {
        "export": export,
        "state": _export_state(export),
        "retention_hours": f"{settings.EXPORT_RETENTION_HOURS:g}",
    }
    return render(request, "portal/imports/export_status.html", context)


@portal_view
def export_status_json_view(request, export_id):
    return JsonResponse(_export_state(_export_or_404(request, export_id)))


@portal_view
def export_download_view(request, export_id):
    """The finished file, from storage, to a member of the merchant that made it (another merchant's is a 404)."""
    export = _export_or_404(request, export_id)
    if export.status != CustomerExport.Status.DONE or not export.file.name:
        raise Http404("This export has no file (yet).")
    stamp = export.created_at.strftime("%Y%m%d-%H%M%S")
    return FileResponse(
        default_storage.open(export.file.name, "rb"),
        as_attachment=True,
        filename=f"customers-{stamp}.csv",
        content_type="text/csv; charset=utf-8",
    )
