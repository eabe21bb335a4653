"""Packing a long table's rows into pages, and pages into parts converted side by side.

Pure arithmetic on predicted heights (docgen.listlayout), in points. A page of the table holds
its header rows and as many whole rows as fit under the page's height minus a safety margin:
rows never split (the templates set `w:cantSplit`), so a page ends where the next row would not
fit. Every page but the table's last is full to within one row and the margin.
"""

from __future__ import annotations

import msgspec
from msgspec.structs import replace

__all__ = ["PartPlan", "RowTooTall", "group_between_ends", "group_pages", "pack_pages"]


class RowTooTall(ValueError):
    """A row that does not fit on an empty page: LibreOffice would split or clip it."""


class PartPlan(msgspec.Struct, frozen=True):
    """One part: its pages of the table (row ranges, end exclusive) and its first page number."""

    pages: list[tuple[int, int]]
    first_page_number: int
    front: bool  # carries what stands before the table (the first part)
    rest: bool  # carries what follows the table (the last part)

    @property
    def rows(self) -> tuple[int, int]:
        return self.pages[0][0], self.pages[-1][1]


def pack_pages(
    heights: list[float], first_capacity: float, capacity: float
) -> list[tuple[int, int]]:
    """Rows per page, greedily: [(first row, end row), …] covering every row in order.

    `first_capacity` is the room for rows on the first page (after what stands before the table
    and the header rows), `capacity` on the following ones (after the header rows). The first
    page's range is empty when not even one row fits there.
    """
    pages: list[tuple[int, int]] = []
    start, used, room = 0, 0.0, first_capacity
    for i, height in enumerate(heights):
        if height > capacity:
            raise RowTooTall(f"row {i + 1} is {height:.0f} pt, a page holds {capacity:.0f} pt")
        if used + height > room:
            pages.append((start, i))
            start, used, room = i, 0.0, capacity
        used += height
    pages.append((start, len(heights)))
    return pages


def group_pages(
    pages: list[tuple[int, int]], parts: int, first_page_number: int = 1
) -> list[PartPlan]:
    """Consecutive pages in up to `parts` groups of about the same number of rows (what a part
    costs LibreOffice grows with its rows).

    Every group but the last has an even number of pages, so that every part starts on a page
    number of the same parity as the document's first: LibreOffice lays a document's first page
    out as a right-hand page, whatever its number, and would put an even number in the odd
    pages' footer (found by tests/integration/test_long_lists.py). Page numbers assume that each
    part but the last has exactly its planned pages (the caller checks LibreOffice's counts).
    """
    parts = max(1, min(parts, len(pages) // 2))
    total = pages[-1][1] - pages[0][0]
    plans: list[PartPlan] = []
    number = first_page_number
    begin = 0
    for k in range(parts):
        if k == parts - 1:
            end = len(pages)
        else:
            target = pages[0][0] + total * (k + 1) / parts
            end = begin + 2
            # Take two pages at a time while the group's end row gets closer to its share of
            # the rows, leaving at least one page to each group still to come.
            while end + 2 <= len(pages) - (parts - k - 1) and abs(
                pages[end + 1][1] - target
            ) <= abs(pages[end - 1][1] - target):
                end += 2
        chosen = pages[begin:end]
        plans.append(PartPlan(chosen, number, front=k == 0, rest=k == parts - 1))
        number += len(chosen)
        begin = end
    return plans


def group_between_ends(
    pages: list[tuple[int, int]], parts: int, first_page_number: int = 1, end_pages: int = 2
) -> list[PartPlan] | None:
    """A short first part (what stands before the table and `end_pages` pages), a short last
    part (the last `end_pages` or one more page, and what follows the table) and the pages in
    between in up to `parts` groups (as `group_pages`), which carry nothing but the table.

    For middle parts cheaper to convert than the ends (docgen.listodt); None when the table
    has no pages between the ends.
    """
    between = len(pages) - 2 * end_pages
    between -= between % 2  # the middle parts' pages even, as every part's but the last
    if between < 2:
        return None
    middle = group_pages(
        pages[end_pages : end_pages + between], parts, first_page_number + end_pages
    )
    first = PartPlan(pages[:end_pages], first_page_number, front=True, rest=False)
    last_number = first_page_number + end_pages + between
    last = PartPlan(pages[end_pages + between :], last_number, front=False, rest=True)
    return [first, *(replace(p, front=False, rest=False) for p in middle), last]
