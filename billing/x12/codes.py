"""Descriptions of the remittance codes the 835 carries, for people reading a denial.

Sources: the X12 external code lists "Claim Adjustment Reason Codes" (code source 139)
and "Remittance Advice Remark Codes" (code source 411), maintained by the Claim
Adjustment Status Code Maintenance Committee and the RARC committee and published by
X12 (x12.org/codes). The descriptions below are the lists' short texts for the codes a
behavioral-health IOP sees most, with the lists' "Usage" notes left out; a code not
listed here is shown by its number with a pointer to the list. The lists change three
times a year: check a code you rely on against the current list.
"""

from __future__ import annotations

SOURCE = "X12 Claim Adjustment Reason Codes and Remittance Advice Remark Codes (x12.org/codes)"

# Claim adjustment group codes (835 CAS01).
GROUPS = {
    "CO": "Contractual obligation (the provider writes it off; the patient is not billed)",
    "CR": "Correction or reversal of a prior decision",
    "OA": "Other adjustment",
    "PI": "Payer-initiated reduction",
    "PR": "Patient responsibility",
}

# Claim Adjustment Reason Codes (CARC).
CARC = {
    "1": "Deductible amount.",
    "2": "Coinsurance amount.",
    "3": "Co-payment amount.",
    "4": "The procedure code is inconsistent with the modifier used.",
    "5": "The procedure code/type of bill is inconsistent with the place of service.",
    "6": "The procedure/revenue code is inconsistent with the patient's age.",
    "11": "The diagnosis is inconsistent with the procedure.",
    "15": "The authorization number is missing, invalid, or does not apply to the billed "
    "services or provider.",
    "16": "Claim/service lacks information or has submission/billing error(s).",
    "18": "Exact duplicate claim/service.",
    "22": "This care may be covered by another payer per coordination of benefits.",
    "23": "The impact of prior payer(s) adjudication including payments and/or adjustments.",
    "26": "Expenses incurred prior to coverage.",
    "27": "Expenses incurred after coverage terminated.",
    "29": "The time limit for filing has expired.",
    "31": "Patient cannot be identified as our insured.",
    "45": "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement.",
    "50": "These are non-covered services because this is not deemed a 'medical necessity' "
    "by the payer.",
    "96": "Non-covered charge(s).",
    "97": "The benefit for this service is included in the payment/allowance for another "
    "service/procedure that has already been adjudicated.",
    "119": "Benefit maximum for this time period or occurrence has been reached.",
    "151": "Payment adjusted because the payer deems the information submitted does not "
    "support this many/frequency of services.",
    "167": "This (these) diagnosis(es) is (are) not covered.",
    "170": "Payment is denied when performed/billed by this type of provider.",
    "185": "The rendering provider is not eligible to perform the service billed.",
    "197": "Precertification/authorization/notification/pre-treatment absent.",
    "198": "Precertification/notification/authorization/pre-treatment exceeded.",
    "204": "This service/equipment/drug is not covered under the patient's current benefit plan.",
    "242": "Services not provided by network/primary care providers.",
    "252": "An attachment/other documentation is required to adjudicate this claim/service.",
    "253": "Sequestration - reduction in federal payment.",
}

# Remittance Advice Remark Codes (RARC).
RARC = {
    "M15": "Separately billed services/tests have been bundled as they are considered "
    "components of the same procedure. Separate payment is not allowed.",
    "M20": "Missing/incomplete/invalid HCPCS.",
    "M51": "Missing/incomplete/invalid procedure code(s).",
    "M62": "Missing/incomplete/invalid treatment authorization code.",
    "M76": "Missing/incomplete/invalid diagnosis or condition.",
    "M86": "Service denied because payment already made for same/similar procedure within "
    "set time frame.",
    "MA01": "Alert: If you do not agree with what we approved for these services, you may "
    "appeal our decision.",
    "MA130": "Your claim contains incomplete and/or invalid information, and no appeal "
    "rights are afforded because the claim is unprocessable. Please submit a new claim with "
    "the complete/correct information.",
    "N20": "Service not payable with other service rendered on the same date.",
    "N30": "Patient ineligible for this service.",
    "N54": "Claim information is inconsistent with pre-certified/authorized services.",
    "N56": "Procedure code billed is not correct/valid for the services billed or the date "
    "of service billed.",
    "N115": "This decision was based on a Local Coverage Determination (LCD).",
    "N130": "Consult plan benefit documents/guidelines for information about restrictions "
    "for this service.",
    "N179": "Additional information has been requested from the member. The charges will be "
    "reconsidered upon receipt of that information.",
    "N286": "Missing/incomplete/invalid referring provider primary identifier.",
    "N290": "Missing/incomplete/invalid rendering provider primary identifier.",
    "N362": "The number of Days or Units of Service exceeds our acceptable maximum.",
    "N640": "Exceeds number/frequency approved/allowed within time period.",
    "N657": "This should be billed with the appropriate code for these services.",
}


def carc(code: str) -> str:
    """A reason code's description, or a pointer to the list for one not kept here."""
    code = (code or "").strip().upper()
    return CARC.get(code) or f"Reason code {code}: see the X12 CARC list."


def rarc(code: str) -> str:
    code = (code or "").strip().upper()
    return RARC.get(code) or f"Remark code {code}: see the X12 RARC list."


def group(code: str) -> str:
    code = (code or "").strip().upper()
    return GROUPS.get(code, code)


def describe(group_code: str, reason: str) -> str:
    """'CO-45: Charge exceeds fee schedule...' as a denial queue shows it."""
    return f"{group_code}-{reason}: {carc(reason)}"
