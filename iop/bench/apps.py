from django.apps import AppConfig


class BenchConfig(AppConfig):
    """``python manage.py bench``: pages, reports and a concurrent run on clinic-scale
    data. No models; installed only so that Django finds the command."""

    name = "iop.bench"
    label = "bench"
    verbose_name = "Benchmark"
