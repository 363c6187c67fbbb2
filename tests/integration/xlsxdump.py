#!/usr/bin/python3
# xlsxdump.py FILE.xlsx: prints a workbook as read by an independent reader (Debian's openpyxl),
# one fact per line, for integration tests to assert on with grep / assert_contains:
#   props title=... | creator=... | created=... | keywords=... | description=... | company=...
#   sheet NAME freeze=A5 filter=A4:I13 rows=13 cols=9 landscape=True
#   width NAME!A 8.0
#   cell NAME!B5 date 2026-11-27T08:30:00 fmt=yyyy-mm-dd hh:mm bold=False fill=FFEB9C
# Cell types: text, int, float, bool, date (a datetime: openpyxl turns date-formatted numbers into
# datetimes, so "date" proves Excel sees a real date, not text).
# Run with /usr/bin/python3: the python3 on PATH may lack Debian's modules.
# xlsxdump.py --plain-ids FILE.xlsx: IDs shown with their check character set apart
# ("L26000001-001 ·1", src/common/idtext.h) are printed as the plain ID ("L26000001-0011"), for
# the tests that check a report's content by its IDs (t0209-readable-ids checks how they show).
import datetime
import sys
import zipfile
import re

import openpyxl


def kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, (datetime.datetime, datetime.date)):
        return "date"
    return "text"


PLAIN_IDS = False
SHOWN_ID = re.compile(r"\b([FBLCE][0-9]{4,8}(?:-[0-9]{3})?) \u00b7([0-9A-Z*])")


def show(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, str):
        if PLAIN_IDS:
            v = SHOWN_ID.sub(r"\1\2", v)
        return v.replace("\n", "\\n")
    return str(v)


def main(path):
    wb = openpyxl.load_workbook(path)
    p = wb.properties
    print("props title=%s" % p.title)
    print("props creator=%s" % p.creator)
    print("props created=%s" % (p.created.isoformat() if p.created else None))
    print("props keywords=%s" % p.keywords)
    print("props subject=%s" % p.subject)
    print("props description=%s" % p.description)
    with zipfile.ZipFile(path) as z:
        app = z.read("docProps/app.xml").decode()
        m = re.search(r"<Company>(.*?)</Company>", app)
        print("props company=%s" % (m.group(1) if m else None))
    print("sheets %s" % "|".join(wb.sheetnames))
    for ws in wb.worksheets:
        print("sheet %s freeze=%s filter=%s rows=%d cols=%d landscape=%s" % (
            ws.title, ws.freeze_panes, ws.auto_filter.ref, ws.max_row, ws.max_column,
            ws.page_setup.orientation == "landscape"))
        for letter, dim in sorted(ws.column_dimensions.items()):
            if dim.width:
                print("width %s!%s %.1f" % (ws.title, letter, dim.width))
        if ws.oddHeader and ws.oddHeader.center.text:
            print("printheader %s %s" % (ws.title, ws.oddHeader.center.text))
        for row in ws.iter_rows():
            for c in row:
                fill = c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else None
                if c.value is None and not fill:
                    continue
                if isinstance(fill, str) and len(fill) == 8:
                    fill = fill[2:]
                print("cell %s!%s %s %s fmt=%s bold=%s fill=%s" % (
                    ws.title, c.coordinate, kind(c.value) if c.value is not None else "empty",
                    show(c.value), c.number_format, bool(c.font and c.font.b), fill))


if __name__ == "__main__":
    if sys.argv[1] == "--plain-ids":
        PLAIN_IDS = True
        sys.argv.pop(1)
    main(sys.argv[1])
