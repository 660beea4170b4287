-- Monthly energy report to DE (Bundesnetzagentur): per grid region and month,
-- energy delivered and billed, metered supply points and supplied customers.
{{ regulator_monthly_report('BNetzA') }}
