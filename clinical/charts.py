"""The trend charts moved to iop.charts (scheduling's reports draw them too, and
scheduling may not import clinical); kept here for clinical's imports."""

from iop.charts import COLOURS, Series, Trend, trend

__all__ = ["COLOURS", "Series", "Trend", "trend"]
