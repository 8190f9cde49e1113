"""Accessibility and layout checks for the browser tests: axe-core in the page, and no sideways scrolling.

axe-core comes from the pinned `axe-playwright-python` package (requirements-dev.txt), which bundles
`axe.min.js` (axe-core 4.12.1, MPL-2.0): nothing is downloaded while the tests run. The script is
evaluated through the DevTools protocol, so the portal's strict Content-Security-Policy does not block it.
"""

from axe_playwright_python.base import AXE_SCRIPT

# The impacts axe-core grades as failures here; "minor" and "moderate" are left to review.
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (every rule, every impact).

    Text the same colour as its background (white on white) is one of them: axe-core files a 1:1
    contrast under "incomplete", in case the text is hidden on purpose, but on these pages it never is.
    """
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations', 'incomplete']})")
    invisible_text = [
        {**check, "nodes": [node for node in check["nodes"] if _has_equal_contrast(node)]}
        for check in results["incomplete"]
        if check["id"] == "color-contrast"
    ]
    return results["violations"] + [check for check in invisible_text if check["nodes"]]


def _has_equal_contrast(node: dict) -> bool:
    return any((check.get("data") or {}).get("messageKey") == "equalRatio" for check in node["any"])


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}) at {' '.join(map(str, node['target']))}: "
                f"{violation['help']} [{violation['helpUrl']}]"
            )
    return "\n".join(lines)


def assert_no_serious_axe_violations(page) -> None:
    """Fail, listing rule id, impact, target and help of each, if axe-core finds a serious or critical violation."""
    blocking = [violation for violation in axe_violations(page) if violation["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {page.url}:\n{describe_violations(blocking)}"


def assert_fits_width(page, width: int = 390) -> None:
    """Nothing on the page is wider than `width` CSS pixels: no sideways scrolling."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        widest = page.evaluate(
            """(width) => [...document.querySelectorAll('body *')]
                .filter((element) => element.getBoundingClientRect().right > width
                    || (element.scrollWidth > element.clientWidth + 1
                        && getComputedStyle(element).overflowX === 'visible'))
                .slice(0, 5)
                .map((element) => [element.tagName.toLowerCase(), ...element.classList].join('.')
                     + ' right=' + Math.round(element.getBoundingClientRect().right))""",
            width,
        )
        raise AssertionError(
            f"{page.url} is {scroll_width}px wide at {width}px; beyond the edge or overflowing: {widest}"
        )
