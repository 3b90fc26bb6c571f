from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"
