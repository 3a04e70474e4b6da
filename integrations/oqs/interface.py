"""What the rest of the service needs from the online qualification system (OQS).

`web` and `ops` depend on this contract only (integrations/oqs/*.py; never the simulator
package); `integrations/registry.py` names the implementations (today: the embedded simulator,
integrations/oqs/simulator/) and `create_app` binds the one OQS_BACKEND names. A remote
implementation talking to the real system would implement the same methods and register itself
there. What an implementation is told of the service itself comes in as `InstitutionNames`.

Conventions: every date comes from the caller (`today`), never from the clock; results are
frozen dataclasses with `to_dict()`; an unknown person is an answer (validity 4 該当資格なし,
empty histories), not an exception; malformed input raises `InvalidInput` (inputs.py, a DomainError) with a
stable code and the field it names; web/error_messages.py words it for people.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Protocol

from consent.vocabulary import HOME_VISIT
from integrations.oqs.results import (
    BatchResult,
    CheckupRecord,
    ClinicalInfo,
    DrugRecord,
    EntrustedTicket,
    LimitInfo,
    PersonIdentity,
    PersonRecord,
    Qualification,
    SpecificDiseaseCertificate,
    SurgeryInfo,
)

# The names of the institutions the service knows, by code, for the codes asked (unknown ones left
# out): an answer may name the asking institution or a 調剤券's prescriber. The app binds it to the
# request's session; an implementation reads the service's own tables through nothing else.
InstitutionNames = Callable[[Collection[str]], dict[str, str]]


class OQS(Protocol):
    def create_person(self, *, today: date, birth_date: date | None = None, validity: int | None = None,
                      medical_aid: bool = False, entrusted_institution_codes: list[str] | None = None,
                      seed: int | None = None, insured: bool = False) -> PersonRecord:
        """Sandbox: one synthetic person with realistic histories (`insured` with `medical_aid`: 併用)."""
        ...

    def people(self, person_ids: list[str]) -> dict[str, PersonRecord]:
        """Many people at once; unknown ids are left out."""
        ...

    def identities(self, person_ids: list[str]) -> dict[str, PersonIdentity]:
        """Names and birth dates of many people at once (a day's patient list); unknown ids left out."""
        ...

    def find_people(self, *, kana: str, birth_date: date, postcode: str | None = None,
                    address: str | None = None, limit: int = 2) -> list[str]:
        """Ids of people with this kana name and birth date at this postcode or address (at most
        `limit`): finding a person without the card under the disaster measure. Not a search of
        strangers: the caller acts only on exactly one match."""
        ...

    def people_born_on(self, birth_date: date, *, limit: int) -> list[str]:
        """Ids of people born on `birth_date` (at most `limit`): the card holders the tablet's photo
        check (目視確認) may be reading, from the birth date printed on the card. The caller offers
        their cards to the card read and refuses when there are too many."""
        ...

    def reference_numbers(self, *, institution_code: str, person_ids: list[str]) -> dict[str, str]:
        """照会番号 of many people at once."""
        ...

    def person(self, person_id: str) -> PersonRecord | None:
        ...

    def qualification(self, person_id: str, *, institution_code: str, care_setting: int, today: date,
                      limit_consent: bool = False) -> Qualification:
        """Qualification by card identity (照会区分 1); `records` holds every record returned (併用: two)."""
        ...

    def entrusted_tickets(self, *, institution_code: str, month: str, today: date) -> list[EntrustedTicket]:
        """委託先資格情報の一括取得: the month's 医療券・調剤券 naming the institution, with their qualifications."""
        ...

    def register_entrustment(self, *, person_id: str, institution_code: str) -> bool:
        """Sandbox: the welfare office entrusts a recipient to an institution (True when new)."""
        ...

    def load_demo_population(self, *, today: date, institution_codes: list[str]) -> list[PersonRecord]:
        """Sandbox: the demo people `flask demo load` shows, entrusted to these institutions (idempotent)."""
        ...

    def reinquiry(self, *, insurer_number: str, symbol: str | None, number: str, branch: str | None,
                  birth_date: date | None, institution_code: str, today: date, care_setting: int = HOME_VISIT,
                  limit_consent: bool = False) -> Qualification:
        """再照会 by insurer number, symbol, number and branch (照会区分 2)."""
        ...

    def batch_inquiry(self, rows: list[dict], *, institution_code: str, today: date) -> list[BatchResult]:
        """一括照会: per row 有効 / 無効 / エラー with the reason."""
        ...

    def drugs(self, person_id: str, *, today: date, from_ym: str | None = None,
              to_ym: str | None = None) -> list[DrugRecord]:
        ...

    def prescriptions(self, person_id: str, *, today: date) -> list[DrugRecord]:
        """電子処方箋 処方・調剤情報: up to 100 days back, newest first, `source` "prescription"."""
        ...

    def clinical(self, person_id: str, *, today: date) -> ClinicalInfo:
        """診療・その他アレルギー等・薬剤アレルギー等・検査."""
        ...

    def surgery(self, person_id: str, *, today: date) -> SurgeryInfo:
        """手術・傷病名・感染症."""
        ...

    def checkups(self, person_id: str, *, today: date) -> list[CheckupRecord]:
        ...

    def limit(self, person_id: str, *, today: date) -> LimitInfo | None:
        ...

    def specific_disease(self, person_id: str, *, today: date) -> list[SpecificDiseaseCertificate]:
        ...

    def register_reference_number(self, *, institution_code: str, person_id: str, reference_number: str) -> None:
        ...

    def reference_number(self, *, institution_code: str, person_id: str) -> str | None:
        ...
