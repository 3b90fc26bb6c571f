"""Issue 21, urine drug screens: invalid and adulterated specimens, an out-of-range
temperature that no longer hides a positive, an invalid analyte, and the MAT
adherence flags, each with the worked example the issue gives (rules first, then
the services and pages)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinical.meds.services import medication_add
from screening import rules, services
from screening.models import ScreenFollowUp, UrineScreen
from screening.rules import AnalyteReading, MatFinding, Outcome, Validity
from tests.clients.factories import with_care_team
from tests.iop.factories import UserFactory
from tests.screening.factories import all_negative, collect, enrolled_client, screen_with

D = Decimal


# --- Rules: validity (HHS 2017 s. 3.8; 49 CFR 40.88, 40.95, 40.96) -------------------------------


@pytest.mark.parametrize(
    ("tests", "validity"),
    [
        # pH: adulterated under 4 and from 11; invalid 4-4.5 and 9-11.
        ({"ph": D("3.99")}, Validity.ADULTERATED),
        ({"ph": D("4.00")}, Validity.INVALID),
        ({"ph": D("4.49")}, Validity.INVALID),
        ({"ph": D("4.50")}, Validity.NORMAL),
        ({"ph": D("8.99")}, Validity.NORMAL),
        ({"ph": D("9.00")}, Validity.INVALID),
        ({"ph": D("10.99")}, Validity.INVALID),
        ({"ph": D("11.00")}, Validity.ADULTERATED),
        # Nitrite: invalid from 200, adulterated from 500 µg/mL.
        ({"nitrite": D("199.9")}, Validity.NORMAL),
        ({"nitrite": D("200")}, Validity.INVALID),
        ({"nitrite": D("499.9")}, Validity.INVALID),
        ({"nitrite": D("500")}, Validity.ADULTERATED),
        ({"oxidant": True}, Validity.ADULTERATED),
        ({"oxidant": False}, Validity.NORMAL),
        ({"invalid_reason": "immunoassay_interference"}, Validity.INVALID),
    ],
)
def test_ph_nitrite_oxidant_and_the_labs_reason(tests, validity):
    assert rules.specimen_validity(D("95"), D("1.0150"), **tests) == validity


def test_adulterated_outranks_the_creatinine_and_sg_class_and_says_why():
    found = rules.assess_specimen(D("1.5"), D("1.0005"), ph=D("3.2"), oxidant=True)
    assert found == rules.SpecimenAssessment(Validity.ADULTERATED, ("pH 3.2", "oxidant present"))
    # A cup read without creatinine or SG still reports an adulterant.
    assert rules.specimen_validity(None, None, nitrite=D("800")) == Validity.ADULTERATED
    assert rules.specimen_validity(None, None) == Validity.NOT_TESTED


def test_the_invalid_creatinine_sg_pair_is_named():
    found = rules.assess_specimen(D("1.9"), D("1.0199"))
    assert found.reasons == ("creatinine 1.9 mg/dL with SG 1.0199 disagree",)


# --- Rules: the overall result -------------------------------------------------------------------


def _r(code, outcome="negative", **kwargs):
    return AnalyteReading(code=code, outcome=outcome, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "outcome"),
    [
        # Issue 21 item 2: 30 °C with cocaine at 900 ng/mL was "recollect" and nothing else.
        (
            {"temperature_ok": False, "readings": [_r("cocaine", "positive"), _r("thc")]},
            Outcome.UNEXPECTED_POSITIVE,
        ),
        ({"temperature_ok": False, "readings": [_r("cocaine"), _r("thc")]}, Outcome.RECOLLECT),
        ({"temperature_ok": False}, Outcome.RECOLLECT),  # collected, results to come
        ({"validity": Validity.INVALID, "readings": [_r("thc")]}, Outcome.INVALID),
        (
            {"validity": Validity.INVALID, "readings": [_r("cocaine", "positive")]},
            Outcome.UNEXPECTED_POSITIVE,
        ),
        ({"validity": Validity.ADULTERATED, "readings": [_r("thc")]}, Outcome.ADULTERATED),
        (
            {"validity": Validity.ADULTERATED, "readings": [_r("cocaine", "positive")]},
            Outcome.ADULTERATED,  # a refusal to test under DOT (49 CFR 40.191(b))
        ),
    ],
)
def test_overall_result_with_temperature_and_validity(kwargs, outcome):
    assert rules.urine_outcome(collected=True, **kwargs) == outcome


# --- Rules: MAT adherence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "readings", "kinds"),
    [
        (
            {"buprenorphine"},
            [_r("buprenorphine"), _r("norbuprenorphine")],
            [MatFinding.ABSENT],
        ),
        (
            {"buprenorphine"},
            [_r("buprenorphine", "positive"), _r("norbuprenorphine")],
            [MatFinding.NO_METABOLITE],
        ),
        (
            {"buprenorphine"},
            [_r("buprenorphine", "positive"), _r("norbuprenorphine", "positive")],
            [],
        ),
        ({"buprenorphine"}, [_r("buprenorphine"), _r("norbuprenorphine", "positive")], []),
        ({"methadone"}, [_r("methadone", "positive"), _r("eddp")], [MatFinding.NO_METABOLITE]),
        ({"methadone"}, [_r("methadone"), _r("eddp")], [MatFinding.ABSENT]),
        ({"methadone"}, [_r("thc")], []),  # not on the panel: nothing to say
        ({"naltrexone"}, [_r("buprenorphine")], []),
        (set(), [_r("buprenorphine"), _r("norbuprenorphine")], []),
        (
            {"buprenorphine"},
            [_r("buprenorphine", "invalid"), _r("norbuprenorphine", "invalid")],
            [],
        ),
    ],
)
def test_mat_findings(agents, readings, kinds):
    assert [kind for kind, _ in rules.mat_findings(agents, readings)] == kinds


# --- Services ------------------------------------------------------------------------------------


@pytest.fixture
def person(clinician, medical_user):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    return client


def _reasons(screen):
    return sorted(screen.follow_ups.values_list("reason", flat=True))


def _results(screen, actor, **kwargs):
    positives = kwargs.pop("positives", {})
    return services.urine_results_record(
        screen=screen, results=all_negative(screen, **positives), actor=actor, **kwargs
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("creatinine", "gravity"), [("1.9", "1.0199"), ("1.5", "1.0020"), ("10", "1.0005")]
)
def test_the_worked_invalid_specimens_open_a_follow_up_and_observe_the_next(
    person, medical_user, creatinine, gravity
):
    screen = screen_with(person, medical_user, creatinine=creatinine, gravity=gravity)
    assert (screen.validity, screen.outcome) == (Validity.INVALID, Outcome.INVALID)
    assert _reasons(screen) == ["invalid"]
    item = screen.follow_ups.get()
    assert item.findings() == f"creatinine {creatinine} mg/dL with SG {gravity} disagree"
    assert services.observation_required(person) == "the last specimen was invalid"
    with pytest.raises(ValidationError, match="must be observed"):
        collect(person, medical_user)
    collect(person, medical_user, observed=True)


@pytest.mark.django_db
def test_out_of_range_temperature_keeps_the_positive_and_opens_the_follow_up(person, medical_user):
    """Issue 21 item 2: 30 °C with cocaine at 900 ng/mL (49 CFR 40.65(b)(6))."""
    first = collect(person, medical_user, temperature="30.0")
    assert first.outcome == Outcome.RECOLLECT
    assert _reasons(first) == ["temperature"]  # open at collection, before any result
    assert first.follow_ups.get().findings() == "30.0 °C (86.0 °F)"
    with pytest.raises(ValidationError, match="must be observed"):
        collect(person, medical_user)
    recollection = collect(person, medical_user, observed=True)
    first = _results(first, medical_user, positives={"cocaine": ("positive", "900")})
    assert first.outcome == Outcome.UNEXPECTED_POSITIVE
    assert _reasons(first) == ["temperature", "unexpected_positive"]
    recollection = _results(recollection, medical_user)
    assert recollection.outcome == Outcome.NEGATIVE  # both specimens are tested


@pytest.mark.django_db
def test_an_invalid_analyte_opens_a_follow_up_and_observes_the_next(
    person, medical_user, clinician
):
    """49 CFR 40.67(a)(1): an invalid result, the next collection observed."""
    screen = _results(
        collect(person, medical_user), medical_user, positives={"thc": ("invalid", None)}
    )
    assert screen.outcome == Outcome.INVALID
    assert _reasons(screen) == ["invalid"]
    assert "Marijuana metabolite (THCA) invalid" in screen.follow_ups.get().findings()
    assert "invalid result" in services.observation_required(person)
    # With a positive beside it, both follow-ups open.
    other = enrolled_client(clinician)
    screen = _results(
        collect(other, medical_user),
        medical_user,
        positives={"thc": ("invalid", None), "cocaine": ("positive", "400")},
    )
    assert _reasons(screen) == ["invalid", "unexpected_positive"]
    assert screen.outcome == Outcome.UNEXPECTED_POSITIVE and screen.needs_observed_next
    assert "invalid result" in services.observation_required(other)


@pytest.mark.django_db
def test_an_adulterated_specimen_is_recorded_with_its_consequences(person, medical_user):
    screen = _results(
        collect(person, medical_user),
        medical_user,
        creatinine_mg_dl="90",
        specific_gravity="1.0150",
        ph="3.5",
        nitrite_ug_ml="650",
        oxidant=True,
        positives={"cocaine": ("positive", "400")},
    )
    assert (screen.validity, screen.outcome) == (Validity.ADULTERATED, Outcome.ADULTERATED)
    assert _reasons(screen) == ["adulterated"]
    assert screen.follow_ups.get().findings() == ("pH 3.50; nitrite 650.0 µg/mL; oxidant present")
    assert services.observation_required(person) == "the last specimen was adulterated"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ph", "15", "The pH must be between 0 and 14"),
        ("ph", "x", "Enter the pH as a number"),
        ("nitrite_ug_ml", "-1", "between 0 and 100000"),
        ("oxidant", "maybe", "Choose not tested"),
        ("invalid_reason", "because", "Choose one of the lab's invalid reasons"),
    ],
)
def test_bad_validity_input_saves_nothing(person, medical_user, field, value, message):
    screen = collect(person, medical_user)
    with pytest.raises(ValidationError, match=message):
        _results(screen, medical_user, **{field: value})
    screen.refresh_from_db()
    assert screen.results_at is None and not screen.results.exists()


def _on(client, actor, agent):
    medication_add(
        client=client,
        mat_agent=agent,
        dose="8 mg",
        schedule="daily",
        outside_prescriber="Dr Outside",
        started_on=timezone.localdate() - timedelta(days=20),
        actor=actor,
    )


@pytest.mark.django_db
def test_a_mat_client_negative_for_buprenorphine_is_flagged(person, medical_user):
    _on(person, medical_user, "buprenorphine")
    screen = screen_with(person, medical_user)
    assert screen.outcome == Outcome.NEGATIVE  # the result itself stays negative
    assert _reasons(screen) == ["mat_absent"]
    item = screen.follow_ups.get()
    assert item.get_reason_display() == "MAT medication not detected"
    assert item.findings() == (
        "Buprenorphine prescribed, not detected: possible non-adherence or diversion"
    )


@pytest.mark.django_db
def test_methadone_without_eddp_is_flagged_as_possibly_spiked(person, medical_user, clinician):
    _on(person, medical_user, "methadone")
    screen = screen_with(person, medical_user, methadone=("positive", "900"))
    assert screen.outcome == Outcome.EXPECTED_POSITIVE
    assert _reasons(screen) == ["mat_no_metabolite"]
    assert screen.follow_ups.get().findings() == (
        "Methadone without EDDP: possible adulterated (spiked) sample"
    )
    # Parent and metabolite both present: nothing to flag.
    other = enrolled_client(clinician)
    _on(other, medical_user, "methadone")
    fine = screen_with(other, medical_user, methadone=("positive", "900"), eddp=("positive", "300"))
    assert _reasons(fine) == []


# --- Pages ---------------------------------------------------------------------------------------


def _results_post(screen, **extra):
    data = {}
    for analyte in screen.panel.analytes.all():
        data[f"result_{analyte.code}"] = "negative"
        data[f"value_{analyte.code}"] = ""
    data.update(extra)
    return data


@pytest.mark.django_db
def test_the_results_form_records_the_validity_tests(person, medical_user, client_as):
    screen = collect(person, medical_user)
    web = client_as(medical_user)
    url = reverse("screening:urine_results", args=[screen.public_id])
    page = web.get(url).content.decode()
    assert 'data-testid="validity-tests"' in page and 'name="ph"' in page
    for bad in ({"ph": "x" * 10_000}, {"ph": "\x00"}, {"oxidant": "maybe"}, {"ph": "14.5"}):
        response = web.post(url, _results_post(screen, **bad))
        assert response.status_code == 400
        screen.refresh_from_db()
        assert screen.results_at is None
    response = web.post(
        url,
        _results_post(screen, creatinine_mg_dl="95", specific_gravity="1.0150", ph="9.5"),
    )
    assert response.status_code == 302
    screen.refresh_from_db()
    assert (screen.validity, screen.outcome, screen.ph) == ("invalid", "invalid", D("9.50"))
    detail = " ".join(web.get(response.url).content.decode().split())
    assert "Invalid: pH 9.50" in detail and "next collection observed" in detail


@pytest.mark.django_db
def test_the_mat_flag_shows_its_findings_only_to_clinical_readers(
    person, medical_user, clinician, client_as
):
    _on(person, medical_user, "buprenorphine")
    screen_with(person, medical_user)
    item = ScreenFollowUp.objects.get()
    html = " ".join(client_as(clinician).get(reverse("dashboard")).content.decode().split())
    assert "Urine screen: MAT medication not detected</a>" in html
    assert "possible non-adherence or diversion" in html
    page = client_as(clinician).get(reverse("screening:follow_up_detail", args=[item.public_id]))
    assert "Findings: Buprenorphine prescribed, not detected" in page.content.decode()
    facilitator = UserFactory(username="fay", roles=["clinician"])
    with_care_team(person, facilitator, role="facilitator")
    web = client_as(facilitator)
    assert web.get(reverse("screening:follow_up_detail", args=[item.public_id])).status_code == 404
    assert "non-adherence" not in web.get(reverse("dashboard")).content.decode()
    assert "non-adherence" not in (
        web.get(reverse("clients:chart", args=[person.public_id])).content.decode()
    )
    assert UrineScreen.objects.count() == 1


# --- Per-analyte confirmatory cutoffs (HHS urine panel, 90 FR 4662, 2025) ------------------------


@pytest.mark.django_db
def test_the_seeded_panel_says_its_edition_and_morphine_has_its_own_cutoff(person, medical_user):
    from screening.models import Analyte, Panel

    opiates = Analyte.objects.get(code="opiates")
    assert opiates.confirm_cutoffs == {"codeine": 2000, "morphine": 4000}
    assert opiates.confirm_cutoff_for("morphine") == D("4000")
    assert opiates.confirm_cutoff_for("codeine") == D("2000")
    assert "90 FR 4662 (2025)" in opiates.reference
    assert "common laboratory default" in Analyte.objects.get(code="etg").reference.lower()
    assert "90 FR 4662" in Panel.objects.get(code="hhs").edition


@pytest.mark.django_db
def test_a_morphine_confirmation_is_checked_against_its_own_cutoff(person, medical_user, clinician):
    """2025 panel: codeine 2,000, morphine 4,000 ng/mL (the 2017 panel had 2,000 for
    both, so 3,000 ng/mL morphine was a confirmed positive then)."""
    screen = screen_with(person, medical_user, opiates=("positive", "2500"))
    result = screen.results.get(analyte__code="opiates")
    assert result.confirm_cutoffs == {"codeine": 2000, "morphine": 4000}  # copied in force

    def confirm(state, value, analyte=""):
        return services.urine_confirmation_record(
            screen=screen,
            analyte_code="opiates",
            confirmation=state,
            confirmed_value=value,
            confirmed_analyte=analyte,
            actor=medical_user,
        )

    with pytest.raises(ValidationError, match="Say which analyte the lab measured"):
        confirm("confirmed_positive", "3000")
    with pytest.raises(ValidationError, match="no confirmatory analyte of that name"):
        confirm("confirmed_positive", "3000", "heroin")
    with pytest.raises(
        ValidationError, match="Below the 4000 ng/mL confirmatory cutoff for morphine"
    ):
        confirm("confirmed_positive", "3000", "morphine")
    result.refresh_from_db()
    assert result.confirmation == ""
    confirm("confirmed_negative", "3000", "morphine")
    screen.refresh_from_db()
    assert screen.outcome == Outcome.NEGATIVE
    other = enrolled_client(clinician)
    codeine = screen_with(other, medical_user, opiates=("positive", "2500"))
    services.urine_confirmation_record(
        screen=codeine,
        analyte_code="opiates",
        confirmation="confirmed_positive",
        confirmed_value="2500",
        confirmed_analyte="codeine",
        actor=medical_user,
    )
    codeine.refresh_from_db()
    assert codeine.outcome == Outcome.UNEXPECTED_POSITIVE


@pytest.mark.django_db
def test_the_pages_show_the_edition_and_the_per_analyte_cutoffs(person, medical_user, client_as):
    screen = collect(person, medical_user)
    web = client_as(medical_user)
    page = web.get(reverse("screening:urine_results", args=[screen.public_id])).content.decode()
    assert 'data-testid="panel-edition"' in page and "90 FR 4662" in page
    assert "codeine 2000, morphine 4000" in page


@pytest.mark.django_db
def test_the_admin_refuses_bad_per_analyte_cutoffs(admin_user, client_as):
    from screening.models import Analyte

    ensure = Analyte.objects.get(code="opiates")
    web = client_as(admin_user)
    url = reverse("admin:screening_analyte_change", args=[ensure.pk])
    base = {
        "name": ensure.name,
        "initial_cutoff": "2000",
        "confirm_cutoff": "2000",
        "reference": ensure.reference,
        "order": "2",
    }
    for bad in ('{"morphine": -1}', '["morphine"]', '{"morphine": "x"}'):
        response = web.post(url, {**base, "confirm_cutoffs": bad})
        assert response.status_code == 200 and "errornote" in response.content.decode()
    ensure.refresh_from_db()
    assert ensure.confirm_cutoffs == {"codeine": 2000, "morphine": 4000}
