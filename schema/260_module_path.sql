-- 260_module_path: the server module's C functions (075, 190) name the module without a directory.
-- They were created with the absolute path of the copy in the instance's home (home/lib), which
-- a streaming standby (schema is replicated, README "Standby and failover") in another home, or on
-- another machine, does not have: there it would load a second copy of the preloaded module, or
-- none. By name, each instance resolves it through its own dynamic_library_path ('$libdir' then
-- its home/lib: src/db/embedded.c), and PostgreSQL sees the preloaded library (same file) as
-- already loaded. Only where that resolves to the same directory today: a configured server whose
-- module lives elsewhere keeps its absolute path. No audited data changes.
UPDATE pg_catalog.pg_proc p SET probin = 'fmtbank_auth'
WHERE p.pronamespace = 'fmtbank'::regnamespace
  AND p.probin LIKE '%/fmtbank_auth.so'
  AND regexp_replace(p.probin, '/[^/]*$', '') = ANY (
      string_to_array(replace(current_setting('dynamic_library_path'), '$libdir',
                              (SELECT c.setting FROM pg_catalog.pg_config c
                               WHERE c.name = 'PKGLIBDIR')), ':'));
