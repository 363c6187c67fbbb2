-- 115_scan_issue: "fmtbank scan --mode issue --recipient R --site S" (product.md §11.0.1): the scan
-- function takes the session's recipient and site (code set, 023); its earlier signature goes.
DROP FUNCTION fmtbank.scan(text, text, text, text, text[]);
