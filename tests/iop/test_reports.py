"""The reports platform: the index by role, background runs with progress, the file
for its owner only (audited), and the 24-hour purge."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from iop.reports.models import ReportRun, RunStatus
from iop.reports.services import report_runs_purge, report_storage
from tests.scheduling.test_reports import QUERY, program  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_the_index_lists_what_the_role_may_run(admin_user, clinician, intake_user, client_as):
    admin = client_as(admin_user).get(reverse("reports:index")).content.decode()
    assert "Attendance against the hours floor" in admin and "Billable days" in admin
    mine = client_as(clinician).get(reverse("reports:index")).content.decode()
    assert "Attendance against the hours floor" in mine and "Billable days" not in mine
    assert "No report" in client_as(intake_user).get(reverse("reports:index")).content.decode()


def test_a_wide_range_offers_a_background_run_and_computes_nothing(admin_user, client_as):
    response = client_as(admin_user).get(
        reverse("reports:report", args=["attendance"]), {"start": "2025-11-01", "end": "2026-10-31"}
    )
    assert response.status_code == 200
    assert "result" not in response.context
    assert 'data-testid="run-background"' in response.content.decode()


def test_a_background_run_writes_the_csv_for_its_owner_only(
    program,  # noqa: F811
    admin_user,
    other_clinician,
    client_as,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from iop.celery import app

    app.conf.task_always_eager = True
    try:
        web = client_as(admin_user)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = web.post(reverse("reports:background", args=["attendance"]), QUERY)
        assert len(callbacks) >= 1
    finally:
        app.conf.task_always_eager = False
    run = ReportRun.objects.get()
    assert response.status_code == 302 and str(run.public_id) in response["Location"]
    assert (run.status, run.progress, run.row_count) == (RunStatus.DONE, 100, 2)
    assert run.filters == {"start": "2026-09-07", "end": "2026-09-20"}
    page = web.get(reverse("reports:run", args=[run.public_id]))
    assert 'data-testid="run-download"' in page.content.decode()
    download = web.get(reverse("reports:download", args=[run.public_id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(download.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    body = raw.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("MRN,Track,Scheduled,Attended")
    assert program["ada"].mrn in body
    assert AuditEvent.objects.filter(action="report.download", actor=admin_user).count() == 1
    # Anyone else: 404, and the attempt audited.
    other = client_as(other_clinician).get(reverse("reports:download", args=[run.public_id]))
    assert other.status_code == 404
    assert AuditEvent.objects.filter(
        action="report.download", actor=other_clinician, outcome="denied"
    ).exists()


def test_the_progress_partial_polls_until_done(admin_user, client_as):
    run = ReportRun.objects.create(
        report="attendance",
        owner=admin_user,
        filters={},
        status=RunStatus.RUNNING,
        progress=40,
        expires_at=timezone.now() + timedelta(hours=24),
    )
    html = (
        client_as(admin_user)
        .get(reverse("reports:run", args=[run.public_id]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert 'hx-trigger="every 1s"' in html and 'value="40"' in html


def test_purge_removes_runs_and_files_after_24_hours(admin_user):
    storage = report_storage()
    from django.core.files.base import ContentFile

    name = storage.save("purge-test/old.csv", ContentFile(b"mrn\n"))
    old = ReportRun.objects.create(
        report="attendance",
        owner=admin_user,
        status=RunStatus.DONE,
        file_name=name,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    fresh = ReportRun.objects.create(
        report="attendance", owner=admin_user, expires_at=timezone.now() + timedelta(hours=23)
    )
    assert report_runs_purge() == 1
    assert not storage.exists(name)
    assert list(ReportRun.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert old.pk != fresh.pk


def test_a_run_is_claimed_once(admin_user):
    from iop.reports.services import report_run_execute

    run = ReportRun.objects.create(
        report="attendance",
        owner=admin_user,
        filters={"start": "2026-09-07", "end": "2026-09-20"},
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert report_run_execute(run_id=run.pk) == "done"
    assert report_run_execute(run_id=run.pk) == "skipped"


def test_a_run_whose_owner_lost_the_role_fails_without_a_file(clinician):
    from iop.reports.services import report_run_execute

    run = ReportRun.objects.create(
        report="billable-days",
        owner=clinician,
        filters={"start": "2026-09-07", "end": "2026-09-20"},
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert report_run_execute(run_id=run.pk) == "failed"
    run.refresh_from_db()
    assert (run.status, run.file_name) == (RunStatus.FAILED, "")


def _queued_run(owner, *, minutes_ago):
    run = ReportRun.objects.create(
        report="attendance",
        owner=owner,
        filters={"start": "2026-09-07", "end": "2026-09-20"},
        expires_at=timezone.now() + timedelta(hours=24),
    )
    ReportRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return run


def test_a_run_whose_message_was_lost_is_sent_again_and_runs(admin_user):
    """The broker restarted without its queue: the run would wait forever. The beat
    sweep sends again what is queued after 10 minutes, and leaves fresh runs alone."""
    from iop.celery import app
    from iop.reports.tasks import requeue_reports

    lost = _queued_run(admin_user, minutes_ago=11)
    fresh = _queued_run(admin_user, minutes_ago=2)
    app.conf.task_always_eager = True
    try:
        assert requeue_reports() == 1
        assert requeue_reports() == 0  # done now: nothing left to send
    finally:
        app.conf.task_always_eager = False
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.status, lost.progress) == (RunStatus.DONE, 100)
    assert report_storage().exists(lost.file_name)
    assert fresh.status == RunStatus.QUEUED


def test_starting_a_run_while_the_broker_is_down_answers_and_keeps_the_run(
    admin_user, client_as, django_capture_on_commit_callbacks, monkeypatch
):
    import time

    from iop.celery import app

    good_url = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/8")  # nothing listens
    app._pool = None
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(admin_user).post(
                reverse("reports:background", args=["attendance"]), QUERY
            )
        assert time.monotonic() - started < 15
    finally:
        monkeypatch.setattr(app.conf, "broker_url", good_url)
        app._pool = None
    run = ReportRun.objects.get()
    assert response.status_code == 302 and str(run.public_id) in response["Location"]
    assert run.status == RunStatus.QUEUED  # for the requeue sweep, not lost


# --- A background run's page: the result as the report's page shows it -----------------


def _done_run(owner, key="attendance", filters=None):
    from iop.reports.services import report_run_execute

    run = ReportRun.objects.create(
        report=key,
        owner=owner,
        filters=filters or dict(QUERY),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert report_run_execute(run_id=run.pk) == "done"
    run.refresh_from_db()
    return run


def test_a_finished_run_shows_its_result_as_the_page_does_with_the_way_back(
    program,  # noqa: F811
    admin_user,
    client_as,
):
    from iop import when

    filters = {**QUERY, "track": "iop3"}
    run = _done_run(admin_user, filters=filters)
    assert run.page_file_name
    html = client_as(admin_user).get(reverse("reports:run", args=[run.public_id])).content
    html = html.decode()
    # The tables, the totals and the chart, from the stored result.
    for testid in ("attendance-rows", "totals-tracks", "table-weeks", "trend-hours"):
        assert f'data-testid="{testid}"' in html, testid
    assert f'<tr data-mrn="{program["ada"].mrn}">' in html
    assert "<td>IOP 3</td>" in html and "<td>iop3</td>" not in html
    # The filters in words, and the way back to the form with them.
    start, end = when.day(date(2026, 9, 7)), when.day(date(2026, 9, 20))
    assert f"From {start} to {end} · Track: IOP 3" in html
    assert "start=" not in html.split('data-testid="run-filters"')[1].split("</p>")[0]
    back = reverse("reports:report", args=["attendance"])
    assert f'href="{back}?start=2026-09-07&amp;end=2026-09-20&amp;track=iop3"' in html
    # Its read: the run's page row with the count of the clients it lists.
    view = AuditEvent.objects.get(action="report.view", actor=admin_user)
    assert view.object_id == str(run.public_id) and "clients=2" in view.detail


def test_the_run_page_is_its_owners_only_every_other_role_gets_404_audited(
    program,  # noqa: F811
    admin_user,
    supervisor,
    clinician,
    other_clinician,
    intake_user,
    medical_user,
    client_as,
):
    from tests.iop.factories import UserFactory

    run = _done_run(clinician)
    url = reverse("reports:run", args=[run.public_id])
    assert client_as(clinician).get(url).status_code == 200
    other_admin = UserFactory(username="adele", roles=["admin"])
    for person in (admin_user, other_admin, supervisor, other_clinician, intake_user, medical_user):
        assert client_as(person).get(url).status_code == 404, person.username
        assert AuditEvent.objects.filter(
            action="access.report", actor=person, outcome="denied", object_id=str(run.public_id)
        ).exists()
    # An owner who may no longer run the report: 404 too (audited), page and file.
    clinician.groups.clear()
    for name in ("reports:run", "reports:download"):
        assert client_as(clinician).get(reverse(name, args=[run.public_id])).status_code == 404
    assert AuditEvent.objects.filter(actor=clinician, outcome="denied").count() == 2


def test_a_long_billable_run_shows_its_first_rows_and_counts_them_all(
    program,  # noqa: F811
    admin_user,
    client_as,
):
    run = _done_run(admin_user, key="billable-days")
    html = client_as(admin_user).get(reverse("reports:run", args=[run.public_id])).content
    html = html.decode()
    assert 'data-testid="billable-rows"' in html
    assert html.count(f"<td>{program['ada'].mrn}</td>") > 0
    assert f"Done: {run.row_count} rows." in html


def test_the_progress_poll_reloads_the_page_when_the_run_is_done(
    program,  # noqa: F811
    admin_user,
    client_as,
):
    run = _done_run(admin_user)
    response = client_as(admin_user).get(
        reverse("reports:run", args=[run.public_id]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Refresh"] == "true"


def test_an_expired_run_page_says_so_without_a_result(admin_user, client_as):
    run = ReportRun.objects.create(
        report="attendance",
        owner=admin_user,
        filters=dict(QUERY),
        status=RunStatus.DONE,
        file_name="gone/attendance.csv",
        page_file_name="gone/attendance.page.json",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    response = client_as(admin_user).get(reverse("reports:run", args=[run.public_id]))
    assert response.status_code == 200
    assert 'data-testid="run-result"' not in response.content.decode()


def test_a_stored_page_comes_back_with_its_types():
    import uuid
    from decimal import Decimal

    from iop.charts import Series, trend
    from iop.reports.values import page_dumps, page_loads

    chart = trend([Series("a", "A", [(date(2026, 9, 7), 3), (date(2026, 9, 14), 5)])], max_value=9)
    page = {
        "rows": [{"hours": Decimal("19.50"), "day": date(2026, 9, 7), "id": uuid.uuid4()}],
        "pairs": [(date(2026, 9, 7), 88)],
        "chart": chart,
        "none": None,
    }
    back = page_loads(page_dumps(page))
    assert back["rows"] == page["rows"]
    assert back["pairs"] == [[date(2026, 9, 7), 88]]
    assert back["chart"]["series"][0]["path"] == chart.series[0].path
    assert back["chart"]["x_labels"] == chart.x_labels
    with pytest.raises(TypeError):
        page_dumps({"who": object()})
