-- 300_todo_params: how far ahead "fmtbank todo" (and the daemon's todo report) looks, as rule
-- parameters instead of numbers fixed in the view (schema/code/110_freezer.sql): donors whose
-- screening runs out within todo_rescreen_days, and stock expiring within todo_expiry_days. The
-- defaults are the numbers the view used (14 and 30, the expiring report's default). Audited
-- catalog data (rule_param INSERT, rule_param_value INSERT; t0004-upgrade).
SELECT fmtbank.rule_param_define('todo_rescreen_days', 14, 'days', 0, 365, true,
    '"fmtbank todo" lists donors whose screening runs out within this many days (or has run out)',
    'site choice (work queue)');
SELECT fmtbank.rule_param_define('todo_expiry_days', 30, 'days', 0, 3650, true,
    '"fmtbank todo" lists lots with stock expiring within this many days (or expired)',
    'site choice (work queue)');
