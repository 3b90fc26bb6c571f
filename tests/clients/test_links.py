import uuid

from django.urls import reverse

from clients.links import chart_url_maker


def test_the_chart_url_maker_gives_what_reverse_gives():
    chart_url = chart_url_maker()
    for public_id in (uuid.uuid4(), uuid.uuid4(), uuid.UUID(int=2**128 - 1)):
        assert chart_url(public_id) == reverse("clients:chart", args=[public_id])
