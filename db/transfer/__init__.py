"""The import workbook (IMPORT.md): its layout, the import, and records as rows for the export.

    workbook_spec.py   sheets, columns, required flags, code lists: the one source
    xlsx_reader.py     reading .xlsx safely and fast (values, formulas, merged cells)
    importer.py        read, check every row, then write all or nothing
    exporter_rows.py   every record of a service as rows of the workbook
    report.py          the import report: failures, conflicts, warnings, counts

CaseStore reaches these through db/parts/transfer.py (store.transfer); the .xlsx writing for the
template and the export is reports/transfer_workbook.py.
"""
