-- bench.sql: streams the benchmark table in order.
SELECT id, aliquot, lot, donor, state, box, position, collected, expires
FROM public.bench_aliquot
ORDER BY id
