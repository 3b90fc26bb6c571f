"""Outcome measures: their items, answer scales, scoring and severity bands.

Pure functions, no database: ``score(instrument, items)`` validates the answers and
returns the scores; the service stores them with the answers, the forms build their
fields from ``INSTRUMENTS`` and the chart draws the bands from them.

PHQ-9 and GAD-7 (Kroenke, Spitzer and Williams 2001; Spitzer et al. 2006; free to
use, no permission required): each item 0-3 over the last two weeks, the total is the
sum. PHQ-9 bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe,
20-27 severe; GAD-7 bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe.
PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0 raises a
safety flag whatever the total.

Brief Addiction Monitor (BAM), 17 items over the past 30 days, the categorical
(0-4) version developed by the VA (VISN 4 MIRECC / Philadelphia CESATE; Cacciola et
al., J Subst Abuse Treat 2013;44(3):256-263). Scoring, as the VA's scoring guide
states and as these sources repeat it:
  https://flutter.super.site/dc7fb3e885354298a8707c7cb8f0835f (VA BAM scoring summary)
  https://o0ssc4ssssowskksg8gkko0.hyperqbank.com/scoring/brief-addiction-monitor-bam
  https://ebchelp.blueprint.ai/en/articles/3945380-brief-addiction-monitor-bam
  - Use = items 4 + 5 + 6 (0-12); items 7A-7G elaborate item 6 and are not scored;
  - Risk factors = items 1 + 2 + 3 + 8 + 11 + 15 (0-24);
  - Protective factors = items 9 + 10 + 12 + 13 + 14 + 16 (0-24);
  - item 17 (satisfaction with progress) is not part of any summary score.
  Each answer scores 0 ("Excellent" / "Not at all" / "No" / "0 days") to 4 ("Poor" /
  "Extremely" / "Yes" / "16-30 days"). Clinically significant: any Use (1 or more),
  Risk 12 or more, Protective 12 or less (Blueprint's table of the VA cut-offs).
  There is no total score, so a BAM has three summary scores and no band of its own:
  its "band" lists the summary scores past their cut-off.
Item wording here is a short paraphrase for the entry form, not the instrument's text.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

# --- Answer scales -----------------------------------------------------------------------

FREQUENCY_2W = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)
BAM_HEALTH = ((0, "Excellent"), (1, "Very good"), (2, "Good"), (3, "Fair"), (4, "Poor"))
BAM_DAYS = ((0, "0 days"), (1, "1-3"), (2, "4-8"), (3, "9-15"), (4, "16-30"))
BAM_AMOUNT = (
    (0, "Not at all"),
    (1, "Slightly"),
    (2, "Moderately"),
    (3, "Considerably"),
    (4, "Extremely"),
)
BAM_YES_NO = ((0, "No"), (4, "Yes"))


@dataclass(frozen=True)
class Item:
    code: str
    text: str
    options: tuple[tuple[int, str], ...]
    required: bool = True

    @property
    def values(self) -> frozenset[int]:
        return frozenset(value for value, _label in self.options)


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    low: int
    high: int


@dataclass(frozen=True)
class InstrumentSpec:
    code: str
    label: str
    title: str
    period: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    max_score: int = 0

    def item(self, code: str) -> Item:
        return next(item for item in self.items if item.code == code)


@dataclass(frozen=True)
class Score:
    total: int | None
    band: str  # a band code (PHQ-9, GAD-7) or the BAM's summary scores past cut-off
    band_label: str
    subscores: dict = field(default_factory=dict)
    safety_flag: bool = False


def _items(prefix_texts, options):
    return tuple(Item(str(n), text, options) for n, text in enumerate(prefix_texts, start=1))


PHQ9 = InstrumentSpec(
    code="phq9",
    label="PHQ-9",
    title="Patient Health Questionnaire (depression)",
    period="Over the last 2 weeks, how often has the client been bothered by…",
    items=_items(
        [
            "Little interest or pleasure in doing things",
            "Feeling down, depressed or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about oneself, a failure, letting oneself or family down",
            "Trouble concentrating on things such as reading or television",
            "Moving or speaking slowly, or being fidgety and restless",
            "Thoughts of being better off dead or of self-harm",
        ],
        FREQUENCY_2W,
    ),
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("moderately_severe", "Moderately severe", 15, 19),
        Band("severe", "Severe", 20, 27),
    ),
    max_score=27,
)
PHQ9_SAFETY_ITEM = "9"

GAD7 = InstrumentSpec(
    code="gad7",
    label="GAD-7",
    title="Generalized Anxiety Disorder scale",
    period="Over the last 2 weeks, how often has the client been bothered by…",
    items=_items(
        [
            "Feeling nervous, anxious or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid as if something awful might happen",
        ],
        FREQUENCY_2W,
    ),
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("severe", "Severe", 15, 21),
    ),
    max_score=21,
)

BAM_USE_ITEMS = ("4", "5", "6")
BAM_RISK_ITEMS = ("1", "2", "3", "8", "11", "15")
BAM_PROTECTIVE_ITEMS = ("9", "10", "12", "13", "14", "16")
BAM_DRUG_ITEMS = tuple(f"7{letter}" for letter in "abcdefg")
# Cut-offs of clinical significance (see the module docstring for the sources).
BAM_USE_CONCERN = 1  # any use
BAM_RISK_CONCERN = 12  # 12 or more
BAM_PROTECTIVE_CONCERN = 12  # 12 or less
BAM_SUBSCALES = (
    ("use", "Use", BAM_USE_ITEMS),
    ("risk", "Risk factors", BAM_RISK_ITEMS),
    ("protective", "Protective factors", BAM_PROTECTIVE_ITEMS),
)

BAM = InstrumentSpec(
    code="bam",
    label="BAM",
    title="Brief Addiction Monitor",
    period="In the past 30 days…",
    items=(
        Item("1", "Physical health", BAM_HEALTH),
        Item("2", "Nights with trouble falling or staying asleep", BAM_DAYS),
        Item("3", "Days depressed, anxious, angry or very upset most of the day", BAM_DAYS),
        Item("4", "Days with any alcohol", BAM_DAYS),
        Item("5", "Days with heavy drinking (5+ drinks; 4+ for women or over 65)", BAM_DAYS),
        Item("6", "Days using illegal or street drugs or misusing prescriptions", BAM_DAYS),
        Item("7a", "Days of marijuana", BAM_DAYS, required=False),
        Item("7b", "Days of sedatives or tranquilizers", BAM_DAYS, required=False),
        Item("7c", "Days of cocaine or crack", BAM_DAYS, required=False),
        Item("7d", "Days of other stimulants", BAM_DAYS, required=False),
        Item("7e", "Days of opiates (heroin, pain medication)", BAM_DAYS, required=False),
        Item("7f", "Days of inhalants", BAM_DAYS, required=False),
        Item("7g", "Days of other drugs", BAM_DAYS, required=False),
        Item("8", "Bothered by cravings or urges to drink or use", BAM_AMOUNT),
        Item("9", "Confidence in staying completely abstinent the next 30 days", BAM_AMOUNT),
        Item("10", "Days attending self-help meetings", BAM_DAYS),
        Item("11", "Days in situations or with people that raise the risk of using", BAM_DAYS),
        Item("12", "How much religion or spirituality helped recovery", BAM_AMOUNT),
        Item("13", "Days at work, school or volunteering", BAM_DAYS),
        Item("14", "Legal income enough for basic necessities", BAM_YES_NO),
        Item("15", "Bothered by arguments or problems with family or friends", BAM_AMOUNT),
        Item("16", "Days in contact with supportive family or friends", BAM_DAYS),
        Item("17", "Satisfaction with progress toward recovery goals", BAM_AMOUNT),
    ),
    max_score=24,
)

INSTRUMENTS: dict[str, InstrumentSpec] = {spec.code: spec for spec in (PHQ9, GAD7, BAM)}


# --- Validation and scoring --------------------------------------------------------------


def clean_items(spec: InstrumentSpec, items: dict) -> dict[str, int]:
    """The answers as {item code: int}, or a ValidationError keyed ``item_<code>``.

    Every required item must be answered with one of its scale's values; unknown item
    codes are refused, so a forged post cannot store anything but the instrument.
    """
    if not isinstance(items, dict):
        raise ValidationError("Answer every item.")
    known = {item.code for item in spec.items}
    unknown = set(items) - known
    if unknown:
        raise ValidationError(f"Unknown items for the {spec.label}: {len(unknown)}.")
    errors, cleaned = {}, {}
    for item in spec.items:
        value = items.get(item.code)
        if value is None or value == "":
            if item.required:
                errors[f"item_{item.code}"] = "Answer this item."
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value not in item.values:
            low, high = min(item.values), max(item.values)
            errors[f"item_{item.code}"] = f"Choose an answer from {low} to {high}."
            continue
        cleaned[item.code] = value
    if errors:
        raise ValidationError(errors)
    if spec.code == BAM.code:
        _check_bam_skips(cleaned)
    return cleaned


def _check_bam_skips(items: dict[str, int]) -> None:
    # The form's skip rules: no drinking days means no heavy-drinking days; no drug-use
    # days means no days for any drug in item 7.
    if items["4"] == 0 and items["5"] > 0:
        raise ValidationError({"item_5": "Heavy-drinking days need drinking days in item 4."})
    if items["6"] == 0 and any(items.get(code, 0) > 0 for code in BAM_DRUG_ITEMS):
        raise ValidationError({"item_6": "Item 7 lists drug-use days: item 6 cannot be 0."})


def band_for(spec: InstrumentSpec, total: int) -> "Band":
    return next(band for band in spec.bands if band.low <= total <= band.high)


def bam_concerns(subscores: dict) -> list[str]:
    concerns = []
    if subscores["use"] >= BAM_USE_CONCERN:
        concerns.append("use")
    if subscores["risk"] >= BAM_RISK_CONCERN:
        concerns.append("risk")
    if subscores["protective"] <= BAM_PROTECTIVE_CONCERN:
        concerns.append("protective")
    return concerns


BAM_CONCERN_LABELS = {"use": "any use", "risk": "high risk", "protective": "low protection"}


def bam_band_label(band: str) -> str:
    codes = [code for code in band.split(",") if code in BAM_CONCERN_LABELS]
    if not codes:
        return "No summary score past its cut-off"
    return ", ".join(BAM_CONCERN_LABELS[code] for code in codes).capitalize()


def band_label(instrument: str, band: str) -> str:
    spec = INSTRUMENTS[instrument]
    if spec.code == BAM.code:
        return bam_band_label(band)
    return next((b.label for b in spec.bands if b.code == band), band)


def score(instrument: str, items: dict) -> tuple[dict[str, int], Score]:
    """Validate ``items`` for ``instrument`` and score them: (clean items, Score)."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise ValidationError("Unknown measure.")
    items = clean_items(spec, items)
    if spec.code == BAM.code:
        subscores = {key: sum(items[c] for c in codes) for key, _label, codes in BAM_SUBSCALES}
        band = ",".join(bam_concerns(subscores)) or "none"
        return items, Score(None, band, bam_band_label(band), subscores)
    total = sum(items.values())
    band = band_for(spec, total)
    flag = spec.code == PHQ9.code and items[PHQ9_SAFETY_ITEM] > 0
    return items, Score(total, band.code, band.label, {}, flag)
