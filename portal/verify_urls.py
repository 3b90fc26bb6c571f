"""The public page where a letter's recipient checks its code: /verify/ (no sign-in)."""

from django.urls import path

from portal import letters

urlpatterns = [path("", letters.verify, name="letter_verify")]
