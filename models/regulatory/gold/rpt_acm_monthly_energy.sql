-- Monthly energy report to NL (Autoriteit Consument & Markt): per grid region and month,
-- energy delivered and billed, metered supply points and supplied customers.
{{ regulator_monthly_report('ACM') }}
