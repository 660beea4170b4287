-- Monthly energy report to LU (Institut Luxembourgeois de Régulation): per grid region and month,
-- energy delivered and billed, metered supply points and supplied customers.
{{ regulator_monthly_report('ILR') }}
