"""Plain result objects of OQS inquiries. Each has `to_dict()`: JSON-ready, dates as ISO strings.

Field names are English; the docstrings give the real interface's item names (資格確認結果 XML),
so a reader can map one to the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from datetime import date
from typing import Any

from consent.vocabulary import VALID_CODES
from integrations.oqs import codes


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


_SCALARS = (str, int, float, bool, type(None))

# Where a DrugRecord comes from: claims (レセプト) or e-prescriptions (電子処方箋 処方・調剤情報).
DRUG_SOURCES = ("claims", "prescription")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


class _Plain:
    def to_dict(self) -> dict[str, Any]:
        # Hot: a drug history is ~50 records per read. Scalars skip the generic conversion.
        out: dict[str, Any] = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            out[name] = value if type(value) in _SCALARS else _plain(value)
        return out


@dataclass(frozen=True)
class PersonIdentity(_Plain):
    """Who a person is, without the insurance: what a list of patients shows (氏名, カナ氏名, 生年月日)."""

    person_id: str
    name: str
    kana: str
    sex: str
    birth_date: date


@dataclass(frozen=True)
class PersonRecord(PersonIdentity):
    """A synthetic person as the sandbox shows it: identity and the card's insurance keys.

    The insurance keys are those of the person's primary qualification when made (for
    validity 3 the lost one the card still points at); for medical-aid-only people they are
    None and the public payer / recipient numbers are set.
    """

    postcode: str
    address: str
    insurer_number: str | None
    insurer_name: str | None
    symbol: str | None
    number: str | None
    branch: str | None
    card_classification: str | None
    public_payer_number: str | None
    recipient_number: str | None
    entrusted_institution_codes: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class ElderlyRecipient(_Plain):
    """高齢受給者証情報 (70-74 outside 後期高齢者医療)."""

    issued_on: date  # 高齢受給者証交付年月日
    valid_from: date  # 高齢受給者証有効開始年月日
    valid_until: date  # 高齢受給者証有効終了年月日
    copay_ratio: int  # 高齢受給者証一部負担金割合, percent


@dataclass(frozen=True)
class LimitInfo(_Plain):
    """限度額適用認定証関連情報."""

    certificate: str  # 限度額適用認定証区分 01/02/03
    certificate_text: str
    limit_class: str  # 限度額適用認定証適用区分 A01-A06 / B01-B10
    limit_class_text: str
    issued_on: date  # 交付年月日
    valid_from: date  # 有効開始年月日
    valid_until: date  # 有効終了年月日
    long_term_hospitalization_on: date | None = None  # 長期入院該当年月日


@dataclass(frozen=True)
class SpecificDiseaseCertificate(_Plain):
    """特定疾病療養受療証情報."""

    disease: str  # 認定疾病区分 1/2/3
    disease_text: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    self_pay_limit: int  # 自己負担限度額 (yen a month)


def _code(table: dict, **more: Any) -> Any:
    """A coded field: the OpenAPI document lists its values (web/api/openapi.py reads field metadata)."""
    return field(metadata={"schema": {"enum": list(table), **more}})


_DEPRECATED = "1.0 の1桁コード。次のリリースで削除します。{} を使ってください。"


@dataclass(frozen=True)
class MedicalTicket(_Plain):
    """医療券・調剤券情報 of a medical-aid recipient for one institution and month.

    Codes are the real interface's (codes.py). `ticket_type` and `combination` are the old
    one-digit codes, kept for one release beside `ticket_type_code` and `combination_code`.
    """

    ticket_type_code: str = _code(codes.TICKET_TYPES)  # 医療券・調剤券別 01 医療券 / 02 調剤券
    ticket_type_text: str
    issue_number: str  # 交付番号
    treatment_month: str  # 診療年月 YYYYMM
    care_kind: str = _code(codes.TICKET_CARE_KINDS)  # 診療別 01 入院 / 02 入院外 / 03 歯科 / 04 調剤 / 05 訪問看護
    care_kind_text: str
    valid_from: date  # 有効開始年月日
    valid_until: date  # 有効終了年月日
    institution_code: str  # 指定医療機関コード
    institution_name: str  # 指定医療機関名
    designated_institution_check: str = _code(codes.DESIGNATED_INSTITUTION_CHECKS)  # 指定医療機関確認フラグ 0 一致 / 1 不一致
    designated_institution_check_text: str
    combination_code: str = _code(codes.AID_COMBINATIONS)  # 単独・併用別 01 単独 / 02 併用
    combination_text: str
    diseases: tuple[str, ...]  # 傷病名1-3
    self_pay_amount: int  # 本人支払額
    prescribing_institution_code: str | None  # 処方箋発行医療機関コード (調剤券 only)
    prescribing_institution_name: str | None  # 処方箋発行医療機関名 (調剤券 only)
    district_officer: str  # 地区担当員名
    handler: str  # 取扱担当者名
    remarks: tuple[str, str, str]  # 備考1-3
    ticket_type: str = _code(codes.LEGACY_TICKET_TYPES.values(), deprecated=True,
                             description=_DEPRECATED.format("ticket_type_code"))  # deprecated: 1 / 2
    combination: str = _code(codes.LEGACY_AID_COMBINATIONS.values(), deprecated=True,
                             description=_DEPRECATED.format("combination_code"))  # deprecated: 1 / 2


@dataclass(frozen=True)
class EntrustedTicket(_Plain):
    """One row of 委託先資格情報の一括取得: a ticket naming the institution and the qualifications it is linked to.

    `qualification` is the medical-aid record (as on today, kept inside the ticket's period);
    `records` that record first, then any health insurance in force beside it (併用).
    """

    person_id: str
    ticket: MedicalTicket
    qualification: "Qualification"
    records: tuple["Qualification", ...]


@dataclass(frozen=True)
class Qualification(_Plain):
    """資格確認結果: the answer to a card inquiry, a re-inquiry or one batch row.

    `validity_code` (資格有効性) is always set; for 4 該当資格なし every other field is None.
    For medical aid at a non-entrusted institution validity is 6 and public payer / recipient
    numbers and the ticket are withheld (docs/sources.md [004]: they are not linked, so no claim can be made).
    `limit` and `limit_class` are only filled when the caller passed the patient's consent
    to limit information (限度額適用認定証提供同意), as the real interface does.
    """

    validity_code: int
    validity_text: str
    message: str
    confirmed_on: date  # 資格確認日
    institution_code: str
    inquiry_kind: str  # 照会区分 1 マイナンバーカード / 2 被保険者証情報
    care_setting: int | None = None
    care_setting_text: str | None = None
    reference_number: str | None = None  # 照会番号 registered by this institution
    person_id: str | None = None
    card_classification: str | None = None  # 被保険者証区分
    card_classification_text: str | None = None
    insurer_number: str | None = None
    insurer_name: str | None = None
    symbol: str | None = None  # 被保険者証記号
    number: str | None = None  # 被保険者証番号
    branch: str | None = None  # 被保険者証枝番
    relationship: str | None = None  # 本人・家族の別
    relationship_text: str | None = None
    insured_name: str | None = None  # 被保険者氏名（世帯主氏名）
    name: str | None = None
    kana: str | None = None
    sex: str | None = None  # 性別1
    sex_text: str | None = None
    birth_date: date | None = None
    address: str | None = None
    postcode: str | None = None
    qualification_date: date | None = None  # 資格取得年月日
    disqualification_date: date | None = None  # 資格喪失年月日
    reason_of_loss: str | None = None  # 資格喪失事由
    reason_of_loss_text: str | None = None
    card_issued_on: date | None = None  # 被保険者証交付年月日
    card_valid_from: date | None = None  # 被保険者証有効開始年月日
    card_valid_until: date | None = None  # 被保険者証有効終了年月日
    copay_ratio: int | None = None  # 一部負担金割合, percent (30 = 3割)
    copay_ratio_text: str | None = None
    preschool: bool = False  # 未就学区分
    elderly_recipient: ElderlyRecipient | None = None
    limit_class: str | None = None
    limit_class_text: str | None = None
    limit: LimitInfo | None = None
    public_payer_number: str | None = None  # 公費負担者番号
    recipient_number: str | None = None  # 受給者番号
    welfare_office: str | None = None  # 福祉事務所名
    entrusted: bool | None = None  # medical aid: is this institution entrusted (委託)?
    ticket: MedicalTicket | None = None
    # 複数該当 (5): the other qualifications that matched, newest first.
    others: tuple["Qualification", ...] = field(default=())
    # Every record a card read returned, this one first: health insurance and medical aid for a
    # 併用 person (docs/sources.md [004]: 「医療保険と医療扶助の両方の資格が表示されます」), else just this one.
    records: tuple["Qualification", ...] = field(default=())

    @property
    def validity(self) -> int:
        return self.validity_code

    @property
    def is_valid(self) -> bool:
        """True for 1 有効 and 6 有効（未登録）."""
        return self.validity_code in VALID_CODES


@dataclass(frozen=True)
class BatchResult(_Plain):
    """One row of a batch inquiry (一括照会): 有効 / 無効 / エラー and why."""

    row: int  # 1-based, as the uploaded list counts
    status: str
    reason: str
    qualification: Qualification | None
    reference_number: str | None
    error_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrugRecord(_Plain):
    """One drug of one prescription or dispensing, as 薬剤情報 shows it (built from claims)."""

    treatment_month: str  # 診療年月 YYYYMM
    prescribed_on: date  # 処方年月日
    dispensed_on: date | None  # 調剤年月日 (None when dispensed in house)
    prescriber: str  # 医療機関名
    dispenser: str | None  # 薬局名
    setting: str  # 入院 / 外来
    dispensing: str  # 院外 / 院内
    drug_code: str  # 個別医薬品コード (YJ)
    drug_name: str
    ingredient: str  # 成分名
    strength: str
    dosage_form: str  # 内服 / 頓服 / 外用
    usage: str  # 用法
    dose: str  # 用量 (per time, or per use)
    days: int | None  # 日数 (内服) or 回数 (頓服); None for external use
    quantity: float  # 調剤数量
    unit: str
    category: str  # 薬効分類名
    # Where the record comes from: "claims" (レセプト, 3 years, a month's lag) or "prescription"
    # (電子処方箋 処方・調剤情報, up to 100 days, right after dispensing; never 院内処方).
    source: str = field(default="claims", metadata={"schema": {"enum": list(DRUG_SOURCES)}})
    refill_total: int | None = None  # リフィル処方箋 総使用回数 (None: not a refill prescription)
    refill_use: int | None = None  # which use of the refill prescription this dispensing is (1-based)


@dataclass(frozen=True)
class CheckupValue(_Plain):
    """One checkup item with its reference range and judgement (特定健診 判定基準)."""

    code: str
    name: str
    value: float | str | None
    unit: str
    reference: str  # the normal range, as printed
    judgement: str  # "" normal, 保健指導判定値 or 受診勧奨判定値
    abnormal: bool
    flag: str  # "H", "L" or ""


@dataclass(frozen=True)
class CheckupRecord(_Plain):
    """One year's 特定健診 (or 後期高齢者健診) result uploaded by the insurer."""

    examined_on: date
    fiscal_year: int
    kind: str  # 特定健診 / 後期高齢者健診
    institution: str  # 健診実施機関名
    age: int
    metabolic_syndrome: str  # メタボリックシンドローム判定: 基準該当 / 予備群該当 / 非該当 / 判定不能
    items: tuple[CheckupValue, ...]

    @property
    def abnormal_items(self) -> tuple[CheckupValue, ...]:
        return tuple(item for item in self.items if item.abnormal)


# -- clinical (診療・アレルギー・検査) and surgery (手術・傷病名・感染症) data --------------------------

@dataclass(frozen=True)
class Diagnosis(_Plain):
    """傷病名 with its ICD-10 code and 診療開始日."""

    name: str
    icd10: str
    started_on: date
    outcome: str  # 転帰: 継続 / 治癒


@dataclass(frozen=True)
class DrugAllergy(_Plain):
    """薬剤アレルギー等: the drug (and its class) and the reaction."""

    drug: str
    drug_class: str
    reaction: str
    noted_on: date


@dataclass(frozen=True)
class OtherAllergy(_Plain):
    """その他アレルギー等 (food, pollen...)."""

    allergen: str
    kind: str  # 食物 / 環境
    reaction: str
    noted_on: date


@dataclass(frozen=True)
class LabResult(_Plain):
    """検査: one item of one blood test with its unit and reference range (JCCLS 共用基準範囲)."""

    tested_on: date
    code: str
    name: str
    value: float
    unit: str
    low: float | None
    high: float | None
    flag: str  # "" within range, "H" above, "L" below


@dataclass(frozen=True)
class Procedure(_Plain):
    """手術: the operation, its K code (診療報酬点数表) and the day."""

    name: str
    k_code: str
    performed_on: date
    institution: str


@dataclass(frozen=True)
class Infection(_Plain):
    """感染症: what was found and when."""

    name: str
    icd10: str
    found_on: date


@dataclass(frozen=True)
class ClinicalInfo(_Plain):
    """診療・その他アレルギー等・薬剤アレルギー等・検査 (SRJ)."""

    drug_allergies: tuple[DrugAllergy, ...]
    other_allergies: tuple[OtherAllergy, ...]
    labs: tuple[LabResult, ...]  # newest first

    def latest(self, code: str) -> LabResult | None:
        return next((lab for lab in self.labs if lab.code == code), None)

    @property
    def empty(self) -> bool:
        return not (self.drug_allergies or self.other_allergies or self.labs)


@dataclass(frozen=True)
class SurgeryInfo(_Plain):
    """手術・傷病名・感染症 (SHJ)."""

    diagnoses: tuple[Diagnosis, ...]  # newest first
    procedures: tuple[Procedure, ...]  # newest first
    infections: tuple[Infection, ...]

    @property
    def empty(self) -> bool:
        return not (self.diagnoses or self.procedures or self.infections)


EMPTY_CLINICAL = ClinicalInfo((), (), ())
EMPTY_SURGERY = SurgeryInfo((), (), ())
