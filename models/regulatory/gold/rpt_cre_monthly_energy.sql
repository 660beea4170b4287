-- Monthly energy report to FR (Commission de régulation de l'énergie): per grid region and month,
-- energy delivered and billed, metered supply points and supplied customers.
{{ regulator_monthly_report('CRE') }}
