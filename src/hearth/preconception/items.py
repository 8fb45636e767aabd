"""The 19 standard items of the free pre-pregnancy eugenic check (免费孕前优生健康检查的19项), in the order of
the national service record. The woman has all 19; the man the nine not marked `women_only` (health education,
history, physical examination, and the laboratory tests the national guide gives both partners).

Kept in code, not as data: the items are the programme's definition, and results are stored under these codes
(`Examination.items`: {code: {"value": text, "abnormal": bool}}), so renaming one would orphan its results.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    women_only: bool = False


ITEMS: tuple[Item, ...] = (
    Item("education", _("优生健康教育")),
    Item("history", _("病史询问")),
    Item("physical", _("体格检查")),
    Item("vaginal_discharge", _("阴道分泌物检查"), women_only=True),
    Item("gonorrhoea", _("淋球菌检测"), women_only=True),
    Item("chlamydia", _("沙眼衣原体检测"), women_only=True),
    Item("blood_routine", _("血常规"), women_only=True),
    Item("urine_routine", _("尿常规")),
    Item("blood_type", _("血型(ABO、Rh)")),
    Item("blood_glucose", _("血糖"), women_only=True),
    Item("liver_alt", _("肝功能(谷丙转氨酶)")),
    Item("hepatitis_b", _("乙型肝炎血清学五项")),
    Item("kidney_creatinine", _("肾功能(肌酐)")),
    Item("thyroid_tsh", _("甲状腺功能(促甲状腺激素)"), women_only=True),
    Item("syphilis", _("梅毒螺旋体筛查")),
    Item("rubella_igg", _("风疹病毒IgG抗体"), women_only=True),
    Item("cmv", _("巨细胞病毒IgM/IgG抗体"), women_only=True),
    Item("toxoplasma", _("弓形体IgM/IgG抗体"), women_only=True),
    Item("gyn_ultrasound", _("妇科超声常规检查"), women_only=True),
)

BY_CODE = {i.code: i for i in ITEMS}
VALUE_MAX = 200


def items_for(who: str) -> tuple[Item, ...]:
    """The items that apply to the woman ("woman": all 19) or the man ("man": those not for women only)."""
    return ITEMS if who == "woman" else tuple(i for i in ITEMS if not i.women_only)
