"""The pharmacist's review before 服薬指導 (issue 33): pure domain code, no web, no storage.

- inputs.py: the typed records the review reads (DrugLine, LabValue, RecordedAllergy)
- adapters.py: those records from OQS results, and `review_patient(...)`, the one call for a page
- dispensing.py: the history grouped by dispensing, with stable `dispensing_id` and row ids
- supply.py: how long a dispensing lasts; current.py: 「現在の薬」
- renal.py, allergy.py, duplicates.py, polypharmacy.py: the checks of 「確認事項」, each from a table
- drug_groups.py, ingredients.py: the groups the checks compare by, and one name per ingredient
- findings.py: a line of 「確認事項」; review.py: all of it together

docs/domain.md ("Medication review checks") lists every table with its sources.
"""
from consent.medication_review.adapters import drug_line, drug_lines, review_patient
from consent.medication_review.dispensing import Dispensing, dispensing_key, group_dispensings, line_ids, record_ids
from consent.medication_review.findings import CHECK_LABELS, DISCLAIMER, Finding, NotChecked
from consent.medication_review.review import MedicationReview, medication_review

__all__ = [
    "CHECK_LABELS", "DISCLAIMER", "Dispensing", "Finding", "MedicationReview", "NotChecked", "dispensing_key",
    "drug_line", "drug_lines", "group_dispensings", "line_ids", "medication_review", "record_ids", "review_patient",
]
