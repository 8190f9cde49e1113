"""Pagination of Django admin's lists over tables of millions of rows."""

import json

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    """A paginator that never counts a huge table row by row.

    Up to EXACT_LIMIT matching rows are counted exactly (a capped COUNT over a
    LIMIT subquery). Beyond that an unfiltered list on PostgreSQL uses the
    planner's row estimate of the listed model's own table; a filtered one
    reports EXACT_LIMIT + 1, so the pages past it are reached by searching or
    filtering, not by paging.
    """

    EXACT_LIMIT = 100_000

    @cached_property
    def count(self) -> int:
        capped = self.object_list.order_by()[: self.EXACT_LIMIT + 1].count()
        if capped <= self.EXACT_LIMIT:
            return capped
        if connection.vendor == "postgresql" and not self.object_list.query.where:
            estimate = table_row_estimate(self.object_list.model._meta.db_table)
            if estimate > capped:
                return estimate
        return capped


def table_row_estimate(table: str) -> int:
    """PostgreSQL's planner estimate of a table's rows (-1 before it was ever analyzed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def query_row_estimate(queryset) -> int | None:
    """PostgreSQL's planner estimate of the rows `queryset` returns (EXPLAIN, nothing run); None elsewhere.

    For a total shown as "about 1.2 million": as good as the table's statistics, at the cost of planning.
    """
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
