"""An approved attendance letter as a PDF (fpdf2, pure Python): exactly ``content``,
the figures frozen at approval, with the verification code and where to check it."""

from fpdf import FPDF

from portal.letter_services import display_code


def _latin(text: str) -> str:
    # The PDF's core fonts are Latin-1: anything else is shown as "?" rather than fail.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def letter_pdf(letter, *, verify_url: str) -> bytes:
    c = letter.content
    pdf = FPDF(format="letter")
    pdf.set_title("Letter of attendance")
    pdf.set_author(_latin(c["program"]))
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _latin(c["program"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _latin(f"Telephone {c['program_phone']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 11)
    lines = [
        f"Date: {c['issued_on']}",
        f"To: {c['recipient']}",
        "",
        "Letter of attendance",
        "",
        f"{c['client_name']} (born {c['client_born']}) attended this program from "
        f"{c['period']} as follows.",
        "",
        f"Sessions attended: {c['sessions_attended']} of {c['sessions_scheduled']} scheduled",
        f"Attendance rate: {c['rate'] if c['rate'] is not None else '-'} %",
        f"Hours attended: {c['hours']}",
        f"Dates attended: {', '.join(c['dates_attended']) or 'none'}",
    ]
    for line in lines:
        if line == "Letter of attendance":
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 11)
        else:
            pdf.multi_cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    if "screens" in c:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, "Screen results", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        if not c["screens"]:
            pdf.cell(0, 6, "No screens in this period.", new_x="LMARGIN", new_y="NEXT")
        for s in c["screens"]:
            text = f"{s['date']}: {s['kind']}, {s['result']}"
            pdf.cell(0, 6, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, _latin(f"Issued by {c['issued_by']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(
        0,
        6,
        _latin(f"Verification code: {display_code(letter.verification_code)}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0,
        5,
        _latin(
            f"Check this letter at {verify_url} with the code above: the page shows what "
            "this letter shows, and nothing more."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(
        0,
        5,
        "This information has been disclosed to you from records protected by federal "
        "confidentiality rules (42 CFR part 2). 42 CFR part 2 prohibits unauthorized use or "
        "disclosure of these records.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
