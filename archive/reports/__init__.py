"""The clerk's reports: each computed from the read models, never typed by hand, and shown as
a page, printed as a PDF, written as a spreadsheet and produced from the command line.

:mod:`archive.reports.model` is what every report is made of; :mod:`archive.reports.catalog`
names the reports; one module per report computes it.
"""
