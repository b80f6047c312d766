"""NHSA code tables used on the wire and in the engine (domain.md §1.9), as closed enums.

Unknown codes are rejected at validation. These are the national core values; a region that
needs another code adds it here with its source, because a silently accepted unknown code would
be settled under the wrong rules.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CertType",
    "ChargeCategory",
    "ChrgitmLv",
    "DischargeWay",
    "HospApprFlag",
    "Insutype",
    "ItemKind",
    "MedType",
    "MedicalAssistance",
    "PrescribingContext",
    "Sex",
    "WorkInjuryStatus",
]


class Insutype(StrEnum):
    """险种类型 insutype (§1.9.1). There is no 工伤 insutype: work injury is its own channel."""

    EMPLOYEE = "310"  # 职工基本医疗保险
    CIVIL_SERVANT_SUBSIDY = "320"  # 公务员医疗补助
    LARGE_AMOUNT = "330"  # 大额医疗费用补助
    RETIRED_CADRE = "340"  # 离休人员医疗保障
    DISABLED_SOLDIER = "350"  # 一至六级残废军人医疗补助
    RED_ARMY = "360"  # 老红军医疗保障
    ENTERPRISE_SUPPLEMENT = "370"  # 企业补充医疗保险
    NCMS = "380"  # 新型农村合作医疗
    RESIDENT = "390"  # 城乡居民基本医疗保险
    URBAN_RESIDENT = "391"  # 城镇居民基本医疗保险
    RESIDENT_SERIOUS_ILLNESS = "392"  # 城乡居民大病医疗保险
    OTHER_SPECIAL = "399"  # 其他特殊人员医疗保障
    LONG_TERM_CARE = "410"  # 长期照护保险
    MATERNITY = "510"  # 生育保险


class MedType(StrEnum):
    """医疗类别 med_type (§1.9.3), national core plus the widely used local codes."""

    GENERAL_OUTPATIENT = "11"  # 普通门诊
    REGISTRATION = "12"  # 门诊挂号
    EMERGENCY = "13"  # 急诊
    CHRONIC_SPECIAL_OUTPATIENT = "14"  # 门诊慢特病
    SPECIAL_DRUG = "15"  # 特药 [LOC]
    INPATIENT = "21"  # 普通住院
    TRAUMA_INPATIENT = "22"  # 外伤住院
    REFERRAL_INPATIENT = "23"  # 转外诊治住院
    EMERGENCY_TO_INPATIENT = "24"  # 急诊转住院
    DAY_SURGERY = "28"  # 日间手术 [LOC]
    PHARMACY = "41"  # 定点药店购药
    MATERNITY_OUTPATIENT = "51"  # 生育门诊
    MATERNITY_INPATIENT = "52"  # 生育住院

    @property
    def is_inpatient(self) -> bool:
        """True for the 住院 family (and 生育住院)."""
        return self in _INPATIENT

    @property
    def is_maternity(self) -> bool:
        """True for 生育门诊 / 生育住院."""
        return self in (MedType.MATERNITY_OUTPATIENT, MedType.MATERNITY_INPATIENT)


_INPATIENT = frozenset(
    {
        MedType.INPATIENT,
        MedType.TRAUMA_INPATIENT,
        MedType.REFERRAL_INPATIENT,
        MedType.EMERGENCY_TO_INPATIENT,
        MedType.DAY_SURGERY,
        MedType.MATERNITY_INPATIENT,
    }
)


class CertType(StrEnum):
    """就诊凭证类型 mdtrt_cert_type (§1.9.4)."""

    E_VOUCHER = "01"  # 医保电子凭证
    ID_CARD = "02"  # 居民身份证
    SSC = "03"  # 社会保障卡


class ChrgitmLv(StrEnum):
    """收费项目等级 chrgitm_lv (§1.9.6): 甲 / 乙 / 丙."""

    A = "01"  # 甲类
    B = "02"  # 乙类
    C = "03"  # 丙类 (not in catalog, 全自费)


class ChargeCategory(StrEnum):
    """医疗收费项目类别 med_chrgitm_type (§1.9.7)."""

    BED = "01"  # 床位费
    CONSULTATION = "02"  # 诊察费
    EXAMINATION = "03"  # 检查费
    LAB = "04"  # 化验费
    TREATMENT = "05"  # 治疗费
    SURGERY = "06"  # 手术费
    NURSING = "07"  # 护理费
    MATERIAL = "08"  # 卫生材料费
    WESTERN_DRUG = "09"  # 西药费
    TCM_PIECES = "10"  # 中药饮片费
    PATENT_TCM = "11"  # 中成药费
    GENERAL_DIAGNOSIS = "12"  # 一般诊疗费
    REGISTRATION = "13"  # 挂号费
    OTHER = "14"  # 其他费

    @property
    def item_kind(self) -> ItemKind:
        """Which national catalog a line of this category is looked up in."""
        if self in (ChargeCategory.WESTERN_DRUG, ChargeCategory.TCM_PIECES, ChargeCategory.PATENT_TCM):
            return ItemKind.DRUG
        if self is ChargeCategory.MATERIAL:
            return ItemKind.CONSUMABLE
        return ItemKind.SERVICE


class ItemKind(StrEnum):
    """The three national item catalogs."""

    DRUG = "drug"  # 药品 (1301/1312)
    SERVICE = "service"  # 医疗服务项目 (1305)
    CONSUMABLE = "consumable"  # 医用耗材 (1306)


class Sex(StrEnum):
    """GB/T 2261.1 sex codes."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSPECIFIED = "9"


class HospApprFlag(StrEnum):
    """医院审批标志 hosp_appr_flag (§1.3): does the doctor attest a 限定支付范围 condition is met."""

    NOT_APPROVED = "0"  # restricted item treated as 自费
    APPROVED = "1"  # restricted item counted as reimbursable
    SELF_PAY = "2"  # patient chose 自费 whatever the item


class DischargeWay(StrEnum):
    """离院方式 dscg_way."""

    ORDERED = "1"  # 医嘱离院
    TRANSFER = "2"  # 医嘱转院
    TO_COMMUNITY = "3"  # 医嘱转社区卫生服务机构/乡镇卫生院
    AGAINST_ADVICE = "4"  # 非医嘱离院
    DEATH = "5"  # 死亡
    OTHER = "9"  # 其他


class PrescribingContext(StrEnum):
    """For a pharmacy purchase (med_type 41): whose policy applies to a 双通道 drug."""

    OUTPATIENT = "outpatient"
    INPATIENT_DISCHARGE = "inpatient_discharge"
    CHRONIC = "chronic"


class MedicalAssistance(StrEnum):
    """医疗救助 categories; the regional policy gives each its terms."""

    NONE = "none"
    DIBAO = "dibao"  # 低保对象
    TEKUN = "tekun"  # 特困人员
    LOW_INCOME = "low_income"  # 低收入人口
    RELAPSE_POVERTY = "relapse_poverty"  # 防止返贫监测对象


class WorkInjuryStatus(StrEnum):
    """工伤认定 state of the work-related part of a visit."""

    RECOGNISED = "recognised"  # 认定书 issued: the 工伤 fund pays
    PENDING = "pending"  # 认定 pending: not a basic-insurance cost (社会保险法 §30)
