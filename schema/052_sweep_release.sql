-- 052_sweep_release: the daemon runs the release sweep (035) after the donor sweep: lots that
-- became ready or stopped being ready, aliquots that expired, and automatic lookback for each
-- open case (a new unacceptable result holds what it should within one pass).
SELECT fmtbank.sweep_register('release', 'fmtbank.sweep_release()', 20,
                              'lots ready/unready, aliquot expiry, automatic lookback');
