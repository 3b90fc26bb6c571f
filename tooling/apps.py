from django.apps import AppConfig


class ToolingConfig(AppConfig):
    """The developer's tools that know every app, so installed after all of them:
    ``seed_demo`` (each app's ``demo.py``, in INSTALLED_APPS order), ``seed_scale``
    (``tooling/scale_seed.py``) and ``bench`` (``tooling/bench/``). No models;
    installed so that Django finds the commands. Nothing imports from here."""

    name = "tooling"
    verbose_name = "Tooling"
