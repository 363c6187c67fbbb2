-- 220_desk2: labels a technician can print on any Zebra printer (issue 14 item 7).
--
-- Two site settings: the resolution of the site's label printers, label_dpi (203 or 300: the
-- default of --dpi for tube and box labels; the ZPL is laid out for that many dots per inch), and
-- the storage temperature printed on tube labels, storage_temp_c (degrees Celsius). Constraints
-- keep their values printable for every session, the owner's too. This migration inserts audited
-- data (site_setting INSERT, t0004-upgrade).

INSERT INTO fmtbank.site_setting (name, value, note) VALUES
    ('label_dpi', '300',
     'resolution of the label printers in dots per inch (203 or 300): the default of --dpi'),
    ('storage_temp_c', '-80', 'storage temperature of the stock in degrees Celsius, printed on tube labels')
ON CONFLICT (name) DO NOTHING;

ALTER TABLE fmtbank.site_setting
    ADD CONSTRAINT site_setting_label_dpi CHECK (name <> 'label_dpi' OR value IN ('203', '300')),
    ADD CONSTRAINT site_setting_storage_temp_c
        CHECK (name <> 'storage_temp_c' OR value ~ '^-?[0-9]{1,3}(\.[0-9])?$');
