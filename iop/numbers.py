"""Numbers as the pages, reports and CSVs show them."""

from decimal import ROUND_HALF_UP, Decimal


def percent(part, whole, *, empty=""):
    """``part`` of ``whole`` as a whole percentage, rounded half up as a clinic reads it
    (1 of 8 is 13 %, 7 of 8 is 88 %), never to the even neighbour as ``round()`` does;
    ``empty`` when there is nothing to divide (no sessions is not 0 %).

    The one rounding of every percentage shown: chart pages, report pages and CSVs."""
    if not whole:
        return empty
    exact = Decimal(100) * Decimal(str(part)) / Decimal(str(whole))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
