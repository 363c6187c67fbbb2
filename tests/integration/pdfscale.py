#!/usr/bin/python3
# pdfscale.py FILE.pdf: the printed size of a PDF's text, from poppler's pdftotext -bbox, one
# fact per line for integration tests:
#   pages N
#   page P words W height H       (H: the median height of the page's words, in points)
#   min_height H                   (the smallest page median: 11-point text at 100 % is ~13)
import statistics
import subprocess
import sys
import xml.etree.ElementTree as ET


def main(path):
    xml = subprocess.run(["pdftotext", "-bbox", path, "-"], check=True, capture_output=True).stdout
    root = ET.fromstring(xml)
    pages = [e for e in root.iter() if e.tag.endswith("page")]
    print("pages %d" % len(pages))
    medians = []
    for n, page in enumerate(pages, 1):
        hs = [float(w.get("yMax")) - float(w.get("yMin")) for w in page if w.tag.endswith("word")]
        if hs:
            m = statistics.median(hs)
            medians.append(m)
            print("page %d words %d height %.1f" % (n, len(hs), m))
    print("min_height %.1f" % (min(medians) if medians else 0))


main(sys.argv[1])
