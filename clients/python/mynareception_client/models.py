"""Typed models of the API's objects, generated from /api/openapi.json by
clients/python/tools/generate_models.py: do not edit by hand; run the generator again.

Objects are frozen, keyword-only dataclasses; `mynareception_client.decode(Model, json)` builds
one from a response (unknown keys are ignored, so a newer server does not break an older client).
Enumerations are `Literal` aliases with the spec's values. Dates and instants are parsed
(`datetime.date`, timezone-aware `datetime.datetime` in JST as the API sends them).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

AidCombination = Literal["01", "02"]
BatchStatus = Literal["有効", "無効", "エラー"]
CareKind = Literal["01", "02", "03", "04", "05"]
CareSetting = Literal[1, 2, 3]
ConsentFlag = Literal[0, 1, 2]
ConsentSource = Literal["card", "certificate"]
ConsentStatus = Literal["active", "expired", "revoked"]
DesignatedInstitutionCheck = Literal["0", "1"]
DrugSource = Literal["claims", "prescription"]
ErrorCode = Literal[
    "bad_request",
    "invalid_json",
    "unsupported_media_type",
    "payload_too_large",
    "uri_too_long",
    "invalid_parameter",
    "unauthorized",
    "invalid_token",
    "insufficient_scope",
    "not_licensed",
    "no_consent",
    "category_not_consented",
    "consent_expired",
    "consent_revoked",
    "qualification_only",
    "certificate_only",
    "not_permitted",
    "function_off",
    "not_found",
    "method_not_allowed",
    "already_revoked",
    "confirmation_only",
    "relationship_ended",
    "conflict",
    "cursor_expired",
    "rate_limited",
    "internal_error",
    "unavailable",
]
ExpiryReason = Literal[0, 1, 2, 3]
InstitutionRevocationReason = Literal[1, 3]
LegacyAidCombination = Literal["1", "2"]
LegacyTicketType = Literal["1", "2"]
StatusLabel = Literal["有効", "同意有効期限切れ", "取消"]
TicketType = Literal["01", "02"]


@dataclass(frozen=True, kw_only=True)
class BatchInquiryResponse:
    """The answer of batch_inquiry."""

    results: list[BatchRowResult]


@dataclass(frozen=True, kw_only=True)
class BatchRow:
    """保険者番号・記号・番号・枝番・生年月日（YYYY-MM-DD。和暦 S29.2.1・昭和29年2月1日 も受け付けます。YYYYMMDD は非推奨）・照会番号"""

    birth_date: str | None = None
    branch: str | None = None
    insurer_number: str | None = None
    number: str | None = None
    reference_number: str | None = None
    symbol: str | None = None


@dataclass(frozen=True, kw_only=True)
class BatchRowResult:
    """BatchRowResult"""

    error_fields: list[str]
    qualification: Qualification | None = None
    reason: str
    reference_number: str | None
    row: int
    status: BatchStatus


@dataclass(frozen=True, kw_only=True)
class CategoryState:
    """One category of a consent, as the real interface reports it (同意フラグ, times, 期限切れ理由)."""

    category: Literal["drug", "checkup", "clinical", "surgery", "specific_disease", "limit"]
    consented_at: datetime.datetime | None
    ended_at: datetime.datetime | None  # 同意が終わった時刻（期限到来・取消）。続いている項目と同意したことのない項目は null。限度額の同意フラグは 0 か 1 だけで、取消のあとは 0 に戻り、consented_at・ended_at
    expires_at: datetime.datetime | None  # この時刻を含まない。期限のないもの（限度額、訪問診療等の同意のすべての項目）は null
    expiry_reason: ExpiryReason | None  # 同意有効期限切れ理由: 0 期限到来、1 医療機関等による取消、2 患者による取消、3 利用目的の変更。終わった項目だけにあり、同意したことのない項目は null
    flag: ConsentFlag  # 同意フラグ: 0 同意なし、1 同意あり、2 同意有効期限切れ


@dataclass(frozen=True, kw_only=True)
class CheckupRecord:
    """One year's 特定健診 (or 後期高齢者健診) result uploaded by the insurer."""

    age: int
    examined_on: datetime.date
    fiscal_year: int
    institution: str
    items: list[CheckupValue]
    kind: str
    metabolic_syndrome: str


@dataclass(frozen=True, kw_only=True)
class CheckupValue:
    """One checkup item with its reference range and judgement (特定健診 判定基準)."""

    abnormal: bool
    code: str
    flag: str
    judgement: str
    name: str
    reference: str
    unit: str
    value: float | str | None


@dataclass(frozen=True, kw_only=True)
class ClinicalInfo:
    """診療・その他アレルギー等・薬剤アレルギー等・検査 (SRJ)."""

    drug_allergies: list[DrugAllergy]
    labs: list[LabResult]
    other_allergies: list[OtherAllergy]


@dataclass(frozen=True, kw_only=True)
class Consent:
    """A consent as the API answers it (the list's items and GET /api/v1/consents/{id})."""

    care_setting: CareSetting
    categories: list[Literal["drug", "checkup", "clinical", "surgery", "specific_disease", "limit"]]
    category_states: list[CategoryState]  # 分類ごとの同意の状態（すべての分類）
    consented_at: datetime.datetime
    consultation_date: datetime.date
    house_call: bool  # 往診（診療区分 2、訪問のたびに資格確認と同意。閲覧期限は訪問日の翌日末まで）
    id: str
    items: list[ItemState]  # 項目ごとの同意の状態（傷病名・感染症・その他アレルギー等・薬剤アレルギー等・検査・処方情報）。患者さんが選んだ分類から決まる（診療・アレルギー・検査 → other_allergy・drug_alle
    lapses_at: datetime.datetime | None  # 訪問診療等（訪問患者）の同意: 訪問の記録がないまま終了する時刻（この時刻を含まない。最後の訪問日から医療機関等の設定日数＋1日後の0時、日本時間）。医療機関等が日数を設定していない（既定）同意は訪問
    last_visit_date: datetime.date | None  # 訪問診療等（訪問患者）の同意: 最後に記録された訪問日。その他の同意は null
    patient: PatientInsurance | None  # 同意を登録したときの保険者番号・記号・番号・枝番（受付時に確認した資格情報）。qualification のスコープを持つトークンだけに答え、それ以外は null
    patient_id: str | None  # この医療機関等での患者ID（医療機関等ごとに異なり、変わらない。events の patient_id と同じ）。患者マスタとの突き合わせのキー
    person: Person
    reference_number: str | None  # 照会番号
    revoked_at: datetime.datetime | None
    source: ConsentSource  # 資格をどう確認したか: card（マイナンバーカードの読み取り、患者さんの同意）、certificate（資格確認書の番号を職員が入力。同意の項目はなく、資格情報のほかはすべて 403 certifi
    status: ConsentStatus
    status_label: StatusLabel
    updated_at: datetime.datetime  # 同意が最後に変わった時刻（登録、項目の変更、取消、訪問の記録など）
    verification: Literal["pin", "photo"]  # 登録のときの本人確認: pin 暗証番号、photo 目視確認（カードの顔写真を職員が見比べる。医療機関等のタブレットでの訪問診療等・往診の受付だけ）。source が certificate（資格確
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。ISO 8601、日本時間の時差つき。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class Diagnosis:
    """傷病名 with its ICD-10 code and 診療開始日."""

    icd10: str
    name: str
    outcome: str
    started_on: datetime.date


@dataclass(frozen=True, kw_only=True)
class DrugAllergy:
    """薬剤アレルギー等: the drug (and its class) and the reaction."""

    drug: str
    drug_class: str
    noted_on: datetime.date
    reaction: str


@dataclass(frozen=True, kw_only=True)
class DrugRecord:
    """One drug record with its stable id and its dispensing's id (a claims row and an"""

    category: str
    days: int | None
    dispensed_on: datetime.date | None
    dispenser: str | None
    dispensing: str
    dispensing_id: str  # 調剤（調剤日・薬局・処方元）のID。同じ調剤のレセプトの行と電子処方箋の行は同じ値
    dosage_form: str
    dose: str
    drug_code: str
    drug_name: str
    id: str  # この記録の固定のID（読み取りのたびに同じ）
    ingredient: str
    prescribed_on: datetime.date
    prescriber: str
    quantity: float
    refill_total: int | None
    refill_use: int | None
    setting: str
    source: DrugSource
    strength: str
    treatment_month: str
    unit: str
    usage: str


@dataclass(frozen=True, kw_only=True)
class ElderlyRecipient:
    """高齢受給者証情報 (70-74 outside 後期高齢者医療)."""

    copay_ratio: int
    issued_on: datetime.date
    valid_from: datetime.date
    valid_until: datetime.date


@dataclass(frozen=True, kw_only=True)
class EntrustedTicket:
    """One row of 委託先資格情報の一括取得: a ticket naming the institution and the qualifications it is linked to."""

    person_id: str
    qualification: Qualification
    records: list[Qualification]
    ticket: MedicalTicket


@dataclass(frozen=True, kw_only=True)
class EntrustedTicketsResponse:
    """The answer of entrusted_tickets."""

    month: str
    tickets: list[EntrustedTicket]


@dataclass(frozen=True, kw_only=True)
class Event:
    """One change, as the feed lists it and a webhook sends it (webhook-id is its id)."""

    consent_id: str | None  # 同意ID。institution.mode_changed は null
    data: dict[str, Any]  # 変わった項目（type ごとの形は webhooks を参照）
    id: str  # イベントID（この医療機関等のイベントの中で発生順）
    occurred_at: datetime.datetime  # 起きた時刻（日本時間、秒まで）。consent.expired は閲覧期限・訪問診療等の期限の時刻
    patient_id: str | None  # この医療機関等での患者ID（医療機関等ごとに異なり、変わらない）。氏名などは API で読み取る
    type: Literal["consent.registered", "consent.updated", "consent.revoked", "consent.expired", "visit.recorded", "relationship.ended", "institution.mode_changed"]


@dataclass(frozen=True, kw_only=True)
class Infection:
    """感染症: what was found and when."""

    found_on: datetime.date
    icd10: str
    name: str


@dataclass(frozen=True, kw_only=True)
class ItemState:
    """One item of 項目ごとの同意 (2025), derived from the category the patient chose that covers it."""

    available_until: datetime.datetime | None  # 閲覧できる期限（この時刻を含まない）。同意していない項目と、期限のない同意（訪問診療等）は null
    consented_at: datetime.datetime | None
    flag: ConsentFlag  # 同意フラグ（その項目を含む分類のもの）: 0 同意なし、1 同意あり、2 同意有効期限切れ
    item: Literal["disease", "infection", "other_allergy", "drug_allergy", "lab", "prescription"]  # 項目: disease 傷病名（手術・傷病名・感染症の同意による）、infection 感染症（手術・傷病名・感染症の同意による）、other_allergy その他アレルギー等（診療・アレルギー・検


@dataclass(frozen=True, kw_only=True)
class LabResult:
    """検査: one item of one blood test with its unit and reference range (JCCLS 共用基準範囲)."""

    code: str
    flag: str
    high: float | None
    low: float | None
    name: str
    tested_on: datetime.date
    unit: str
    value: float


@dataclass(frozen=True, kw_only=True)
class LimitInfo:
    """限度額適用認定証関連情報."""

    certificate: str
    certificate_text: str
    issued_on: datetime.date
    limit_class: str
    limit_class_text: str
    long_term_hospitalization_on: datetime.date | None
    valid_from: datetime.date
    valid_until: datetime.date


@dataclass(frozen=True, kw_only=True)
class ListConsentsResponse:
    """The answer of list_consents."""

    consents: list[Consent]
    date: datetime.date


@dataclass(frozen=True, kw_only=True)
class ListEventsResponse:
    """The answer of list_events."""

    events: list[Event]
    next_cursor: str


@dataclass(frozen=True, kw_only=True)
class MedicalTicket:
    """医療券・調剤券情報 of a medical-aid recipient for one institution and month."""

    care_kind: CareKind
    care_kind_text: str
    combination: LegacyAidCombination  # 1.0 の1桁コード。次のリリースで削除します。combination_code を使ってください。
    combination_code: AidCombination
    combination_text: str
    designated_institution_check: DesignatedInstitutionCheck
    designated_institution_check_text: str
    diseases: list[str]
    district_officer: str
    handler: str
    institution_code: str
    institution_name: str
    issue_number: str
    prescribing_institution_code: str | None
    prescribing_institution_name: str | None
    remarks: list[str]
    self_pay_amount: int
    ticket_type: LegacyTicketType  # 1.0 の1桁コード。次のリリースで削除します。ticket_type_code を使ってください。
    ticket_type_code: TicketType
    ticket_type_text: str
    treatment_month: str
    valid_from: datetime.date
    valid_until: datetime.date


@dataclass(frozen=True, kw_only=True)
class OtherAllergy:
    """その他アレルギー等 (food, pollen...)."""

    allergen: str
    kind: str
    noted_on: datetime.date
    reaction: str


@dataclass(frozen=True, kw_only=True)
class PatientInsurance:
    """The insurance keys the consent was registered with, as the real 同意済資格情報 result carries them."""

    branch: str | None  # 被保険者証枝番（ないときは null）
    insurer_number: str | None  # 保険者番号
    number: str | None  # 被保険者証番号
    symbol: str | None  # 被保険者証記号（ないときは null）


@dataclass(frozen=True, kw_only=True)
class Person:
    """The person as the OQS knows them; null fields when unknown."""

    birth_date: datetime.date | None
    kana: str | None
    name: str | None


@dataclass(frozen=True, kw_only=True)
class Problem:
    """RFC 9457 problem details (application/problem+json)。error と message は従来どおり"""

    detail: str  # 日本語の説明（message と同じ）
    error: ErrorCode
    message: str  # 日本語の説明
    status: int
    title: str
    type: str  # /problems/<code>: そのコードを説明するページ


@dataclass(frozen=True, kw_only=True)
class Procedure:
    """手術: the operation, its K code (診療報酬点数表) and the day."""

    institution: str
    k_code: str
    name: str
    performed_on: datetime.date


@dataclass(frozen=True, kw_only=True)
class Qualification:
    """資格確認結果: the answer to a card inquiry, a re-inquiry or one batch row."""

    address: str | None
    birth_date: datetime.date | None
    branch: str | None
    card_classification: str | None
    card_classification_text: str | None
    card_issued_on: datetime.date | None
    card_valid_from: datetime.date | None
    card_valid_until: datetime.date | None
    care_setting: int | None
    care_setting_text: str | None
    confirmed_on: datetime.date
    copay_ratio: int | None
    copay_ratio_text: str | None
    disqualification_date: datetime.date | None
    elderly_recipient: ElderlyRecipient | None
    entrusted: bool | None
    inquiry_kind: str
    institution_code: str
    insured_name: str | None
    insurer_name: str | None
    insurer_number: str | None
    kana: str | None
    limit: LimitInfo | None
    limit_class: str | None
    limit_class_text: str | None
    message: str
    name: str | None
    number: str | None
    others: list[Qualification]
    person_id: str | None
    postcode: str | None
    preschool: bool
    public_payer_number: str | None
    qualification_date: datetime.date | None
    reason_of_loss: str | None
    reason_of_loss_text: str | None
    recipient_number: str | None
    records: list[Qualification]
    reference_number: str | None
    relationship: str | None
    relationship_text: str | None
    sex: str | None
    sex_text: str | None
    symbol: str | None
    ticket: MedicalTicket | None
    validity_code: int
    validity_text: str
    welfare_office: str | None


@dataclass(frozen=True, kw_only=True)
class ReadCheckupResponse:
    """The answer of read_checkup."""

    checkups: list[CheckupRecord]
    consent_id: str
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class ReadClinicalResponse:
    """The answer of read_clinical."""

    clinical: ClinicalInfo
    consent_id: str
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class ReadDrugResponse:
    """The answer of read_drug."""

    consent_id: str
    drugs: list[DrugRecord]
    next_cursor: str | None
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class ReadLimitResponse:
    """The answer of read_limit."""

    consent_id: str
    limit: LimitInfo | None
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class ReadQualificationResponse:
    """The answer of read_qualification."""

    confirmed_at: datetime.datetime
    consent_id: str
    qualification: Qualification
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class ReadSpecificDiseaseResponse:
    """The answer of read_specific_disease."""

    consent_id: str
    specific_disease: list[SpecificDiseaseCertificate]
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class ReadSurgeryResponse:
    """The answer of read_surgery."""

    consent_id: str
    surgery: SurgeryInfo
    window_end: datetime.datetime | None  # 閲覧期限（この時刻を含まない）。訪問診療等（訪問患者）の同意は null


@dataclass(frozen=True, kw_only=True)
class RecordVisitResponse:
    """The answer of record_visit."""

    consent: Consent
    visit_date: datetime.date


@dataclass(frozen=True, kw_only=True)
class ReinquiryResponse:
    """The answer of reinquiry."""

    consent: Consent | None
    qualification: Qualification


@dataclass(frozen=True, kw_only=True)
class SpecificDiseaseCertificate:
    """特定疾病療養受療証情報."""

    disease: str
    disease_text: str
    issued_on: datetime.date
    self_pay_limit: int
    valid_from: datetime.date
    valid_until: datetime.date | None


@dataclass(frozen=True, kw_only=True)
class SurgeryInfo:
    """手術・傷病名・感染症 (SHJ)."""

    diagnoses: list[Diagnosis]
    infections: list[Infection]
    procedures: list[Procedure]
