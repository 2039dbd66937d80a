"""The desk's contacts with customers, as rules both the write path and the reports follow:
what a reminder's outcome and a greeting's result may be, when a car is due for periodic
maintenance, how a customer's visits are read, and the report settings (churn period,
intervals, holiday calendar). Depends on the read models only, never on the reports or the
commands, so both may use it."""
