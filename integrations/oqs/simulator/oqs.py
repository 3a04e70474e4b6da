"""The embedded OQS simulator: the `OQS` interface over the app's own database.

It answers as the real system would — same fields, codes, data horizons and edge cases —
from stored qualifications and histories derived on read. It never commits: the caller owns
the transaction (writes are flushed, so a following read in the same session sees them).
"""
from __future__ import annotations

import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.vocabulary import BATCH_ERROR, BATCH_INVALID, BATCH_VALID, INSURANCE_KEY_LABELS
from integrations.oqs import codes
from integrations.oqs.errors import PersonNotFound
from integrations.oqs.inputs import (
    InsuranceKeys, InvalidInput, check_keys, check_month, check_reference_number, month_of,
)
from integrations.oqs.interface import InstitutionNames
from integrations.oqs.results import (
    EMPTY_CLINICAL, EMPTY_SURGERY, BatchResult, CheckupRecord, ClinicalInfo, DrugRecord, EntrustedTicket, LimitInfo,
    PersonIdentity, PersonRecord, Qualification, SpecificDiseaseCertificate, SurgeryInfo,
)
from integrations.oqs.simulator import benefits, medical_aid
from integrations.oqs.simulator.ages import age_on, copay_text
from integrations.oqs.simulator.checkup_history import checkup_history
from integrations.oqs.simulator.clinical import clinical_info, surgery_info
from integrations.oqs.simulator.demo import store_demo_population
from integrations.oqs.simulator.drug_history import drug_history
from integrations.oqs.simulator.facts import Coverage, PersonFacts
from integrations.oqs.simulator.generator import plan_sandbox_person, store_plans
from integrations.oqs.simulator.models import OqsEntrustment, OqsPerson, OqsReferenceNumber
from integrations.oqs.simulator.prescriptions import prescription_history
from integrations.oqs.simulator.validity import card_records, decide_card
from integrations.oqs.simulator.views import (
    PersonView,
    QualView,
    load_identities,
    load_people,
    load_person,
    one_of,
    qualifications_by_number,
)

CARD, INSURANCE_INFO = "1", "2"


def _plain(text: str) -> str:
    """NFKC without any spaces: 「東京都　千代田区」 and 「東京都千代田区」 are one address."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _plain_kana(text: str) -> str:
    """Kana as katakana without spaces (「やまだ　はなこ」, 「ﾔﾏﾀﾞ ﾊﾅｺ」 → 「ヤマダハナコ」)."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in _plain(text))


def _check_care_setting(care_setting: int) -> None:
    if care_setting not in codes.CARE_SETTINGS:
        raise InvalidInput("invalid_care_setting", field="診療区分", detail=care_setting)


def _check_institution(code: str) -> None:
    if not isinstance(code, str) or len(code) != 10 or not code.isascii() or not code.isdigit():
        raise InvalidInput("invalid_institution_code", field="医療機関コード")


def facts_of(person: PersonView) -> PersonFacts:
    return PersonFacts(
        seed=person.seed, sex=person.sex, birth_date=person.birth_date, traits=person.traits,
        city=person.city, town=person.town,
        coverage=tuple(Coverage(q.qualification_date, q.disqualification_date, q.kind)
                       for q in sorted(person.qualifications, key=lambda q: q.qualification_date)),
    )


def primary_qualification(quals: list[QualView], day: date) -> QualView | None:
    """The qualification a card inquiry on `day` describes, or the first one still to start."""
    _, chosen, _ = decide_card(quals, day)
    if chosen is None and quals:
        return min(quals, key=lambda q: q.qualification_date)
    return chosen


def no_institution_names(institution_codes: Collection[str]) -> dict[str, str]:
    """Scripts and tests without the service's tables: every institution is 「医療機関コード…」."""
    return {}


class SimulatedOQS:
    """The simulator bound to one SQLAlchemy session. It keeps its own tables (models.py) and knows
    nothing of the service's: the names of institutions come in through `institution_names`."""

    def __init__(self, session: Session, institution_names: InstitutionNames = no_institution_names) -> None:
        self.session = session
        self.institution_names = institution_names
        # People read through this instance (one a request): a drug read asks for claims and
        # e-prescriptions, each of the same person. Dropped by this instance's own writes.
        self._people: dict[str, PersonView | None] = {}

    # -- people ---------------------------------------------------------------------------

    def create_person(self, *, today: date, birth_date: date | None = None, validity: int | None = None,
                      medical_aid: bool = False, entrusted_institution_codes: list[str] | None = None,
                      seed: int | None = None, insured: bool = False) -> PersonRecord:
        """Sandbox: one synthetic person with realistic drug and checkup histories.

        `validity` 1-6 forces what a card inquiry answers on `today`: 2 lost (その他), 3 lost
        with a new insurer starting within weeks, 4 a qualification that starts later, 5 two
        overlapping qualifications, 6 medical aid (implies `medical_aid`). With `medical_aid`
        the person is on 生活保護 alone (card classification A1): their 国保 ended with
        02 生活保護受給開始. `entrusted_institution_codes` are the institutions the welfare
        office entrusted; when None, a synthetic clinic and pharmacy in the person's
        prefecture are chosen, so that every sandbox institution sees the 未委託 display (6)
        unless it is named. `insured` with `medical_aid` keeps an employee health insurance in
        force beside the medical aid (併用: a card read returns both records); such a person is
        under 75 (後期高齢者医療 ends on 生活保護) and answers validity 1 (or 6 for the aid record).
        `seed` makes the person's data (not the id) reproducible.
        """
        self._people.clear()
        if validity is not None and (not isinstance(validity, int) or isinstance(validity, bool)
                                     or validity not in codes.VALIDITY):
            raise InvalidInput("invalid_validity", field="validity")
        if validity == codes.VALID_UNREGISTERED:
            medical_aid = True
        if medical_aid and validity in (codes.INVALID_NEWER, codes.NO_QUALIFICATION, codes.SEVERAL_MATCH):
            raise InvalidInput("validity_with_medical_aid", field="validity", detail=validity)
        if birth_date is not None and (birth_date > today or birth_date.year < 1900):
            raise InvalidInput("birth_date_out_of_range", field="birth_date")
        if birth_date == today and validity in (2, 3):
            raise InvalidInput("born_today_lost", field="validity")
        if insured:
            if not medical_aid:
                raise InvalidInput("insured_without_medical_aid", field="insured")
            if validity not in (None, codes.VALID, codes.VALID_UNREGISTERED):
                raise InvalidInput("validity_with_insured", field="validity", detail=validity)
            if birth_date is not None and not 18 <= age_on(birth_date, today) < 75:
                raise InvalidInput("insured_age_out_of_range", field="birth_date")
        codes_given = None
        if entrusted_institution_codes is not None:
            if not medical_aid:
                raise InvalidInput("entrusted_without_medical_aid", field="entrusted_institution_codes")
            for code in entrusted_institution_codes:
                _check_institution(code)
            codes_given = list(dict.fromkeys(entrusted_institution_codes))
        if seed is None:
            seed = secrets.randbits(62)
        plan = plan_sandbox_person(today=today, seed=seed, birth_date=birth_date, validity=validity,
                                   medical_aid=medical_aid, entrusted=codes_given,
                                   person_id=secrets.token_hex(8), insured=insured)
        store_plans(self.session, [plan])
        record = self.person(plan.id)
        assert record is not None
        return record

    def _person(self, person_id: str) -> PersonView | None:
        if not isinstance(person_id, str) or not person_id or len(person_id) > 32:
            return None
        if person_id not in self._people:
            self._people[person_id] = load_person(self.session, person_id)
        return self._people[person_id]

    def person(self, person_id: str) -> PersonRecord | None:
        person = self._person(person_id)
        return None if person is None else self._record(person)

    def people(self, person_ids: list[str]) -> dict[str, PersonRecord]:
        """Many people in a few queries (a day's patient list); unknown ids are left out."""
        wanted = [p for p in dict.fromkeys(person_ids) if isinstance(p, str) and 0 < len(p) <= 32]
        return {pid: self._record(view) for pid, view in load_people(self.session, wanted).items()}

    def find_people(self, *, kana: str, birth_date: date, postcode: str | None = None,
                    address: str | None = None, limit: int = 2) -> list[str]:
        """Ids of people with this name (kana) and birth date at this postcode or address, at most
        `limit` (the caller needs exactly one). Kana compares without spaces, hiragana as katakana,
        half-width as full-width; a postcode by its digits; an address as a part of the stored one."""
        wanted_kana = _plain_kana(kana)
        wanted_postcode = "".join(c for c in unicodedata.normalize("NFKC", postcode or "") if c.isdigit())
        wanted_address = _plain(address or "")
        if not wanted_kana or not (wanted_postcode or wanted_address):
            return []
        found = []
        rows = self.session.execute(
            select(OqsPerson.id, OqsPerson.kana, OqsPerson.postcode, OqsPerson.address)
            .where(OqsPerson.birth_date == birth_date).order_by(OqsPerson.id))
        for person_id, stored_kana, stored_postcode, stored_address in rows:
            if _plain_kana(stored_kana) != wanted_kana:
                continue
            if wanted_postcode and "".join(c for c in stored_postcode if c.isdigit()) != wanted_postcode:
                continue
            if wanted_address and wanted_address not in _plain(stored_address):
                continue
            found.append(person_id)
            if len(found) >= limit:
                break
        return found

    def people_born_on(self, birth_date: date, *, limit: int) -> list[str]:
        """Ids of people born on `birth_date`, at most `limit` (the photo check's candidates)."""
        return list(self.session.scalars(
            select(OqsPerson.id).where(OqsPerson.birth_date == birth_date).order_by(OqsPerson.id).limit(limit)))

    def identities(self, person_ids: list[str]) -> dict[str, PersonIdentity]:
        """Names and birth dates in one query: a list of hundreds needs no qualifications."""
        return {pid: PersonIdentity(*row) for pid, row in load_identities(self.session, person_ids).items()}

    def _record(self, person: PersonView) -> PersonRecord:
        primary = primary_qualification(person.qualifications, person.created_on)
        aid = next((q for q in reversed(person.qualifications) if q.kind == "medical_aid"), None)
        insurance = primary if primary is not None and primary.kind != "medical_aid" else None
        return PersonRecord(
            person_id=person.id, name=person.name, kana=person.kana, sex=person.sex,
            birth_date=person.birth_date, postcode=person.postcode, address=person.address,
            insurer_number=insurance.insurer_number if insurance else None,
            insurer_name=insurance.insurer_name if insurance else None,
            symbol=insurance.symbol if insurance else None,
            number=insurance.number if insurance else None,
            branch=insurance.branch if insurance else None,
            card_classification=primary.card_classification if primary else None,
            public_payer_number=aid.public_payer_number if aid else None,
            recipient_number=aid.recipient_number if aid else None,
            entrusted_institution_codes=tuple(person.entrusted),
            origin=person.origin,
        )

    # -- qualification --------------------------------------------------------------------

    def qualification(self, person_id: str, *, institution_code: str, care_setting: int, today: date,
                      limit_consent: bool = False) -> Qualification:
        """Qualification by card identity (照会区分 1 マイナンバーカード).

        The newest qualification in force answers (1, or for medical aid 1 / 6 by
        entrustment); two insurances in force at once are 5 複数該当; with none in force the
        newest started one answers 2 無効, or 3 無効（新しい資格あり） when a newer one is
        already registered; nothing started is 4 該当資格なし. Limit information is included
        only with `limit_consent` (限度額適用認定証提供同意).
        """
        _check_institution(institution_code)
        _check_care_setting(care_setting)
        person = self._person(person_id)
        context = _Context(self, institution_code, today, CARD, care_setting, limit_consent)
        if person is None:
            return context.not_found()
        code, chosen, others = decide_card(person.qualifications, today)
        if chosen is None:
            return context.not_found()
        if code == codes.VALID:
            code = context.valid_code(person, chosen)
        primary = context.result(person, chosen, code, others=[context.result(person, q, codes.SEVERAL_MATCH) for q in others])
        extra = [context.result(person, q, context.valid_code(person, q))
                 for q in card_records(person.qualifications, today)[1:]]
        return replace(primary, records=(primary, *extra))

    def entrusted_tickets(self, *, institution_code: str, month: str, today: date) -> list[EntrustedTicket]:
        """委託先資格情報の一括取得: every 医療券・調剤券 of `month` naming this institution, with the
        qualifications it is linked to, by recipient number.

        It reads the entrustments as they are now, so tickets the welfare office registered after
        the visit (docs/sources.md [004]) are included. A month after `today`'s is refused.
        """
        _check_institution(institution_code)
        month = check_month(month, "month")
        if month is None:
            raise InvalidInput("invalid_month", field="診療年月", detail="month")
        if month > month_of(today):
            raise InvalidInput("future_month", field="診療年月", detail="month")
        person_ids = list(self.session.scalars(select(OqsEntrustment.person_id).where(
            OqsEntrustment.institution_code == institution_code)))
        context = _Context(self, institution_code, today, CARD, None, False)
        context.prefetch_reference_numbers(set(person_ids))
        found = []
        for person in load_people(self.session, person_ids).values():
            aid = medical_aid.aid_in_month(person.qualifications, month)
            if aid is None:
                continue
            day = medical_aid.describe_day(medical_aid.aid_period_in(aid, month), today)
            at = _Context(self, institution_code, day, CARD, None, False)
            at._references, at._institution_name = context._references, context.prefetch_institution_name()
            record = replace(at.result(person, aid, codes.VALID, month=month), confirmed_on=today)
            linked = [q for q in card_records(person.qualifications, day) if q is not aid]
            records = (record, *(replace(at.result(person, q, codes.VALID), confirmed_on=today) for q in linked))
            found.append(EntrustedTicket(person_id=person.id, ticket=record.ticket, qualification=record,
                                         records=records))
        found.sort(key=lambda t: (t.qualification.recipient_number or "", t.person_id))
        return found

    def register_entrustment(self, *, person_id: str, institution_code: str) -> bool:
        """The welfare office entrusts (委託) a medical-aid recipient to an institution, possibly after the
        visit; True when it is new. Raises PersonNotFound, or InvalidInput for someone without medical aid."""
        self._people.clear()
        _check_institution(institution_code)
        person = self._person(person_id)
        if person is None:
            raise PersonNotFound(person_id)
        if not any(q.kind == "medical_aid" for q in person.qualifications):
            raise InvalidInput("not_medical_aid", field="person_id")
        if institution_code in person.entrusted:
            return False
        self.session.add(OqsEntrustment(person_id=person_id, institution_code=institution_code))
        self.session.flush()
        self._people.clear()
        return True

    def load_demo_population(self, *, today: date, institution_codes: list[str]) -> list[PersonRecord]:
        """The demo people (demo.py), created where missing; no commit."""
        self._people.clear()
        person_ids = store_demo_population(self.session, today=today, institution_codes=institution_codes)
        return [self.person(person_id) for person_id in person_ids]

    def reinquiry(self, *, insurer_number: str, symbol: str | None, number: str, branch: str | None,
                  birth_date: date | None, institution_code: str, today: date, care_setting: int = codes.HOME_VISIT,
                  limit_consent: bool = False) -> Qualification:
        """再照会 by 保険者番号 + 記号 + 番号 + 枝番 (+ 生年月日), 照会区分 2.

        Medical aid is looked up by 公費負担者番号 (法別 12, given as the insurer number) and
        受給者番号 (as the number). Malformed keys raise InvalidInput naming the field; keys
        that match nobody answer 4; keys matching several people (e.g. no branch for a
        family) answer 5 with the others listed.
        """
        _check_institution(institution_code)
        _check_care_setting(care_setting)
        keys = check_keys(insurer_number=insurer_number, symbol=symbol, number=number, branch=branch,
                          birth_date=birth_date, today=today, birth_date_required=False)
        if keys.errors:
            field, code = keys.problems[0]
            raise InvalidInput(code, field=field)
        context = _Context(self, institution_code, today, INSURANCE_INFO, care_setting, limit_consent)
        lookup = _Lookup(self.session, [keys], same_work=True)
        answer = self._answer(context, lookup, keys)
        if answer.person_id is None:
            # Nobody (or a wrong birth date): the same statements as an answer about someone, so the
            # time taken tells a stranger nothing about which keys exist.
            context.reference_for(DECOY_PERSON_ID)
        return answer

    def _answer(self, context: "_Context", lookup: "_Lookup", keys: InsuranceKeys) -> Qualification:
        matches = lookup.matches(keys)
        if not matches:
            return context.not_found()
        if len(matches) > 1:
            ordered = sorted(matches, key=lambda pq: pq[1].qualification_date, reverse=True)
            results = [context.result(p, q, codes.SEVERAL_MATCH) for p, q in ordered]
            return _with_others(results[0], tuple(results[1:]))
        person, qual = matches[0]
        today = context.today
        if benefits.in_force(qual, today):
            return context.result(person, qual, context.valid_code(person, qual))
        if qual.qualification_date > today:
            return context.not_found()
        newer = any(q.qualification_date > qual.qualification_date for q in person.qualifications)
        return context.result(person, qual, codes.INVALID_NEWER if newer else codes.INVALID)

    def batch_inquiry(self, rows: list[dict], *, institution_code: str, today: date) -> list[BatchResult]:
        """一括照会: each row 有効 / 無効 / エラー with a Japanese reason; one bad row never stops the rest.

        エラー: a required field missing or malformed (the reason names it), or several people
        matching because the branch (枝番) was left out. 無効: 2, 3 or 4 (該当資格なし).
        有効: 1 or 6. A row's own 照会番号 is echoed; without one, the number this institution
        registered for the person is.
        """
        _check_institution(institution_code)
        if not isinstance(rows, list):
            raise InvalidInput("rows_not_list", field="rows")
        checked: list[InsuranceKeys | None] = []
        for row in rows:
            if not isinstance(row, dict):
                checked.append(None)
                continue
            checked.append(check_keys(
                insurer_number=row.get("insurer_number"), symbol=row.get("symbol"), number=row.get("number"),
                branch=row.get("branch"), birth_date=row.get("birth_date"),
                reference_number=row.get("reference_number"), today=today, birth_date_required=True,
            ))
        context = _Context(self, institution_code, today, INSURANCE_INFO, None, False)
        lookup = _Lookup(self.session, [k for k in checked if k is not None and not k.errors])
        context.prefetch_reference_numbers(lookup.person_ids())
        context.prefetch_institution_name()
        results = []
        for index, keys in enumerate(checked, start=1):
            if keys is None:
                results.append(BatchResult(index, BATCH_ERROR, "行の形式が正しくありません。", None, None, ("行",)))
                continue
            if keys.errors:
                reason = "".join(message for _, message in keys.errors)
                results.append(BatchResult(index, BATCH_ERROR, reason, None, keys.reference_number,
                                           tuple(dict.fromkeys(f for f, _ in keys.errors))))
                continue
            answer = self._answer(context, lookup, keys)
            reference = keys.reference_number or answer.reference_number
            if (answer.validity_code == codes.SEVERAL_MATCH and not keys.branch and not keys.late_elderly
                    and not keys.medical_aid):
                results.append(BatchResult(index, BATCH_ERROR, "複数の資格が該当しました。枝番を入力してください。",
                                           answer, reference, (INSURANCE_KEY_LABELS["branch"],)))
                continue
            status, reason = _batch_status(answer)
            results.append(BatchResult(index, status, reason, answer, reference))
        return results

    # -- histories and certificates --------------------------------------------------------

    def drugs(self, person_id: str, *, today: date, from_ym: str | None = None,
              to_ym: str | None = None) -> list[DrugRecord]:
        """薬剤情報: 3 years back from `today` (claims reach OQS by the 11th of the next month), newest first."""
        start, end = check_month(from_ym, "from"), check_month(to_ym, "to")
        if start and end and start > end:
            raise InvalidInput("month_order", field="診療年月")
        person = self._person(person_id)
        if person is None:
            return []
        return drug_history(facts_of(person), today=today, from_ym=start, to_ym=end)

    def prescriptions(self, person_id: str, *, today: date) -> list[DrugRecord]:
        """電子処方箋 処方・調剤情報: dispensings of the last 100 days (no 院内処方), newest first."""
        person = self._person(person_id)
        return [] if person is None else prescription_history(facts_of(person), today=today)

    def clinical(self, person_id: str, *, today: date) -> ClinicalInfo:
        """Allergies and lab results of the last year, consistent with the drug history."""
        person = self._person(person_id)
        return EMPTY_CLINICAL if person is None else clinical_info(facts_of(person), today=today)

    def surgery(self, person_id: str, *, today: date) -> SurgeryInfo:
        """傷病名 (ICD-10), operations and infections known on `today`."""
        person = self._person(person_id)
        return EMPTY_SURGERY if person is None else surgery_info(facts_of(person), today=today)

    def checkups(self, person_id: str, *, today: date) -> list[CheckupRecord]:
        """特定健診情報: 5 years back from `today` (results appear 60 days after the exam), newest first."""
        person = self._person(person_id)
        if person is None:
            return []
        return checkup_history(facts_of(person), today=today)

    def _current_insurance(self, person: PersonView, today: date) -> QualView | None:
        valid = [q for q in person.qualifications if q.kind != "medical_aid" and benefits.in_force(q, today)]
        return max(valid, key=lambda q: q.qualification_date) if valid else None

    def limit(self, person_id: str, *, today: date) -> LimitInfo | None:
        """限度額適用認定証関連情報 of the insurance in force on `today` (None without one, or on medical aid)."""
        person = self._person(person_id)
        if person is None:
            return None
        qual = self._current_insurance(person, today)
        return None if qual is None else benefits.limit_info(person, qual, today)

    def specific_disease(self, person_id: str, *, today: date) -> list[SpecificDiseaseCertificate]:
        """特定疾病療養受療証 held on `today` (empty for most people)."""
        person = self._person(person_id)
        if person is None:
            return []
        return benefits.specific_disease_certificates(person, self._current_insurance(person, today), today)

    # -- reference numbers ----------------------------------------------------------------

    def register_reference_number(self, *, institution_code: str, person_id: str, reference_number: str) -> None:
        """登録 of 照会番号: later results for this institution echo it (registering again replaces it)."""
        _check_institution(institution_code)
        reference = check_reference_number(reference_number)
        if self._person(person_id) is None:
            raise PersonNotFound(person_id)
        row = self.session.scalar(select(OqsReferenceNumber).where(
            OqsReferenceNumber.institution_code == institution_code, OqsReferenceNumber.person_id == person_id))
        if row is None:
            self.session.add(OqsReferenceNumber(institution_code=institution_code, person_id=person_id,
                                                reference_number=reference))
        else:
            row.reference_number = reference
        self.session.flush()

    def reference_number(self, *, institution_code: str, person_id: str) -> str | None:
        return self.session.scalar(select(OqsReferenceNumber.reference_number).where(
            OqsReferenceNumber.institution_code == institution_code, OqsReferenceNumber.person_id == person_id))

    def reference_numbers(self, *, institution_code: str, person_ids: list[str]) -> dict[str, str]:
        """照会番号 of many people at once (a day's patient list)."""
        if not person_ids:
            return {}
        return dict(self.session.execute(select(OqsReferenceNumber.person_id, OqsReferenceNumber.reference_number)
                                         .where(OqsReferenceNumber.institution_code == institution_code,
                                                OqsReferenceNumber.person_id.in_(list(set(person_ids))))).all())


def _with_others(result: Qualification, others: tuple[Qualification, ...]) -> Qualification:
    return replace(result, others=others)


def _batch_status(answer: Qualification) -> tuple[str, str]:
    code = answer.validity_code
    if code == codes.VALID:
        return BATCH_VALID, ""
    if code == codes.VALID_UNREGISTERED:
        return BATCH_VALID, f"{codes.VALIDITY[code]}：医療券/調剤券情報が未登録です。"
    if code == codes.NO_QUALIFICATION:
        return BATCH_INVALID, codes.VALIDITY[code]
    if code == codes.SEVERAL_MATCH:
        return BATCH_INVALID, f"{codes.VALIDITY[code]}：同じ記号・番号・枝番の資格が複数あります。"
    lost = answer.disqualification_date
    when = f"{lost.year}年{lost.month}月{lost.day}日" if lost else ""
    why = answer.reason_of_loss_text or "その他"
    if code == codes.INVALID_NEWER:
        return BATCH_INVALID, f"{codes.VALIDITY[code]}：{when}に資格喪失（{why}）。新しい保険の資格があります。"
    return BATCH_INVALID, f"{codes.VALIDITY[code]}：{when}に資格喪失（{why}）。"


# An id no person has (ids are 16 hex digits): what lookups run on when nobody matched.
DECOY_PERSON_ID = "-" * 16


class _Lookup:
    """Finds qualifications for many insurance keys with a handful of queries."""

    def __init__(self, session: Session, keys: list[InsuranceKeys], *, same_work: bool = False) -> None:
        # By number (indexed); only those under the asked insurer (or payer) are kept.
        wanted = {("aid" if k.medical_aid else "", k.insurer_number, k.number) for k in keys}
        found = qualifications_by_number(session, {k.number for k in keys if not k.medical_aid}, medical_aid=False)
        found += qualifications_by_number(session, {k.number for k in keys if k.medical_aid}, medical_aid=True)
        self._by_key: dict[tuple, list[QualView]] = defaultdict(list)
        for qual in found:
            if qual.kind == "medical_aid":
                key = ("aid", qual.public_payer_number, qual.recipient_number)
            else:
                key = ("", qual.insurer_number, qual.number)
            if key in wanted:
                self._by_key[key].append(qual)
        found = [q for quals in self._by_key.values() for q in quals]
        # same_work (one re-inquiry): people are loaded even when no key matched, so unknown keys
        # run the same statements as known ones.
        self._people = load_people(session, {q.person_id for q in found} or ({DECOY_PERSON_ID} if same_work else set()))

    def person_ids(self) -> set[str]:
        return set(self._people)

    def matches(self, keys: InsuranceKeys) -> list[tuple[PersonView, QualView]]:
        if keys.medical_aid:
            candidates = self._by_key.get(("aid", keys.insurer_number, keys.number), [])
        else:
            candidates = [
                q for q in self._by_key.get(("", keys.insurer_number, keys.number), [])
                if (keys.late_elderly or (q.symbol or "") == keys.symbol)
                and (not keys.branch or keys.late_elderly or q.branch == keys.branch)
            ]
        result = []
        for qual in candidates:
            person = self._people[qual.person_id]
            if keys.birth_date is not None and person.birth_date != keys.birth_date:
                continue
            result.append((person, qual))
        return result


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Context:
    """Everything one answer needs besides the person: who asks, when, and how."""

    def __init__(self, oqs: SimulatedOQS, institution_code: str, today: date, inquiry_kind: str,
                 care_setting: int | None, limit_consent: bool) -> None:
        self.oqs = oqs
        self.session = oqs.session
        self.institution_code = institution_code
        self.today = today
        self.inquiry_kind = inquiry_kind
        self.care_setting = care_setting
        self.limit_consent = limit_consent
        self._references: dict[str, str] | None = None
        self._institution_name: str | None = None

    def prefetch_reference_numbers(self, person_ids: set[str]) -> None:
        self._references = {}
        for chunk in _chunks(sorted(person_ids), 2000):
            for person_id, reference in self.session.execute(
                select(OqsReferenceNumber.person_id, OqsReferenceNumber.reference_number).where(
                    OqsReferenceNumber.institution_code == self.institution_code,
                    one_of(self.session, OqsReferenceNumber.person_id, chunk))):
                self._references[person_id] = reference

    def reference_for(self, person_id: str) -> str | None:
        if self._references is not None:
            return self._references.get(person_id)
        return self.oqs.reference_number(institution_code=self.institution_code, person_id=person_id)

    def prefetch_institution_name(self) -> str:
        if self._institution_name is None:
            name = self.oqs.institution_names([self.institution_code]).get(self.institution_code)
            self._institution_name = name or f"医療機関コード{self.institution_code}"
        return self._institution_name

    def institution_names(self, institution_codes) -> dict[str, str]:
        """Names of the institutions among `institution_codes` the service knows (a ticket's prescriber)."""
        wanted = [c for c in institution_codes if c != self.institution_code]
        if not wanted:
            return {}
        return self.oqs.institution_names(wanted)

    def entrusted(self, person: PersonView) -> bool:
        return self.institution_code in person.entrusted

    def valid_code(self, person: PersonView, qual: QualView) -> int:
        if qual.kind == "medical_aid" and not self.entrusted(person):
            return codes.VALID_UNREGISTERED
        return codes.VALID

    def _base(self, code: int) -> dict:
        return dict(
            validity_code=code, validity_text=codes.VALIDITY[code], message=codes.VALIDITY_MESSAGES[code],
            confirmed_on=self.today, institution_code=self.institution_code, inquiry_kind=self.inquiry_kind,
            care_setting=self.care_setting,
            care_setting_text=codes.CARE_SETTINGS.get(self.care_setting) if self.care_setting else None,
        )

    def not_found(self) -> Qualification:
        return Qualification(**self._base(codes.NO_QUALIFICATION))

    def result(self, person: PersonView, qual: QualView, code: int,
               others: list[Qualification] | None = None, month: str | None = None) -> Qualification:
        today = self.today
        fields = self._base(code)
        aid = qual.kind == "medical_aid"
        issued, valid_from, valid_until = benefits.card_period(person, qual, today)
        copay, preschool = benefits.copay_for(person, qual, today)
        limit = benefits.limit_info(person, qual, today) if self.limit_consent else None
        entrusted = self.entrusted(person) if aid else None
        ticket = None
        if aid and entrusted and (month is not None or benefits.in_force(qual, today)):
            ticket = medical_aid.medical_ticket(
                person, qual, institution_code=self.institution_code, institution_name=self.prefetch_institution_name(),
                month=month or month_of(today), names=self.institution_names(person.entrusted))
        fields.update(
            reference_number=self.reference_for(person.id),
            person_id=person.id,
            card_classification=qual.card_classification,
            card_classification_text=codes.CARD_CLASSIFICATIONS[qual.card_classification],
            insurer_number=qual.insurer_number, insurer_name=None if aid else qual.insurer_name,
            symbol=qual.symbol, number=qual.number, branch=qual.branch,
            relationship=qual.relationship_code,
            relationship_text=codes.RELATIONSHIPS.get(qual.relationship_code) if qual.relationship_code else None,
            insured_name=qual.insured_name,
            name=person.name, kana=person.kana, sex=person.sex, sex_text=codes.SEXES[person.sex],
            birth_date=person.birth_date, address=person.address, postcode=person.postcode,
            qualification_date=qual.qualification_date, disqualification_date=qual.disqualification_date,
            reason_of_loss=qual.reason_of_loss,
            reason_of_loss_text=codes.REASONS_OF_LOSS.get(qual.reason_of_loss) if qual.reason_of_loss else None,
            card_issued_on=issued, card_valid_from=valid_from, card_valid_until=valid_until,
            copay_ratio=copay, copay_ratio_text=copay_text(copay) if copay is not None else None,
            preschool=preschool,
            elderly_recipient=benefits.elderly_recipient(person, qual, today),
            limit=limit, limit_class=limit.limit_class if limit else None,
            limit_class_text=limit.limit_class_text if limit else None,
            # Seed 004: not entrusted -> no payer / recipient numbers, so no claim can be made.
            public_payer_number=qual.public_payer_number if aid and entrusted else None,
            recipient_number=qual.recipient_number if aid and entrusted else None,
            welfare_office=qual.welfare_office if aid else None,
            entrusted=entrusted, ticket=ticket,
            others=tuple(others or ()),
        )
        return Qualification(**fields)

