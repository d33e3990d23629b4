"""Management reports: revenue, payments, debtors, ARPU, churn and the lifecycle flows,
aggregated in the database for a period. A domain app without models: it only reads
what billing, payments, subscribers and quality keep."""
