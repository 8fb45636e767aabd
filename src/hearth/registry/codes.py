"""National code tables the registry records: values are the standards' codes, labels their Chinese names."""

import re

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Ethnicity(models.TextChoices):
    """民族 (GB/T 3304-1991)."""

    HAN = "01", "汉族"
    MONGOL = "02", "蒙古族"
    HUI = "03", "回族"
    TIBETAN = "04", "藏族"
    UYGHUR = "05", "维吾尔族"
    MIAO = "06", "苗族"
    YI = "07", "彝族"
    ZHUANG = "08", "壮族"
    BUYEI = "09", "布依族"
    KOREAN = "10", "朝鲜族"
    MANCHU = "11", "满族"
    DONG = "12", "侗族"
    YAO = "13", "瑶族"
    BAI = "14", "白族"
    TUJIA = "15", "土家族"
    HANI = "16", "哈尼族"
    KAZAKH = "17", "哈萨克族"
    DAI = "18", "傣族"
    LI = "19", "黎族"
    LISU = "20", "傈僳族"
    VA = "21", "佤族"
    SHE = "22", "畲族"
    GAOSHAN = "23", "高山族"
    LAHU = "24", "拉祜族"
    SUI = "25", "水族"
    DONGXIANG = "26", "东乡族"
    NAXI = "27", "纳西族"
    JINGPO = "28", "景颇族"
    KYRGYZ = "29", "柯尔克孜族"
    TU = "30", "土族"
    DAUR = "31", "达斡尔族"
    MULAO = "32", "仫佬族"
    QIANG = "33", "羌族"
    BLANG = "34", "布朗族"
    SALAR = "35", "撒拉族"
    MAONAN = "36", "毛南族"
    GELAO = "37", "仡佬族"
    XIBE = "38", "锡伯族"
    ACHANG = "39", "阿昌族"
    PUMI = "40", "普米族"
    TAJIK = "41", "塔吉克族"
    NU = "42", "怒族"
    UZBEK = "43", "乌孜别克族"
    RUSSIAN = "44", "俄罗斯族"
    EVENK = "45", "鄂温克族"
    DEANG = "46", "德昂族"
    BONAN = "47", "保安族"
    YUGUR = "48", "裕固族"
    GIN = "49", "京族"
    TATAR = "50", "塔塔尔族"
    DERUNG = "51", "独龙族"
    OROQEN = "52", "鄂伦春族"
    HEZHEN = "53", "赫哲族"
    MONBA = "54", "门巴族"
    LHOBA = "55", "珞巴族"
    JINO = "56", "基诺族"
    OTHER = "97", "其他"
    FOREIGN_ORIGIN = "98", "外国血统中国籍人士"


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")


class MaritalStatus(models.TextChoices):
    """婚姻状况 (GB/T 2261.2): a civil fact from the registry of marriages, never a service criterion."""

    SINGLE = "10", _("未婚")
    MARRIED = "20", _("已婚")
    WIDOWED = "30", _("丧偶")
    DIVORCED = "40", _("离婚")
    UNSTATED = "90", _("未说明")


class Education(models.TextChoices):
    """学历 (GB/T 4658, top-level codes)."""

    POSTGRADUATE = "10", _("研究生")
    BACHELOR = "20", _("大学本科")
    COLLEGE = "30", _("大学专科")
    SECONDARY_VOCATIONAL = "40", _("中等职业教育")
    HIGH_SCHOOL = "60", _("普通高中")
    JUNIOR = "70", _("初中")
    PRIMARY = "80", _("小学")
    OTHER = "90", _("其他")


class RelationToHead(models.TextChoices):
    """与户主关系 (GB/T 4761, top-level codes)."""

    HEAD = "02", _("户主")
    SPOUSE = "10", _("配偶")
    SON = "20", pgettext_lazy("relation to head", "子")
    DAUGHTER = "30", pgettext_lazy("relation to head", "女")
    GRANDCHILD = "40", _("孙子女或外孙子女")
    PARENT = "50", _("父母")
    GRANDPARENT = "60", _("祖父母或外祖父母")
    SIBLING = "70", _("兄弟姐妹")
    OTHER_RELATIVE = "80", _("其他亲属")
    NON_RELATIVE = "99", _("非亲属")


# GB/T 2260 province-level codes (the first two digits of every region code).
PROVINCES = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}
# Region names this deployment knows below the province (the rest show as province + code).
KNOWN_REGIONS = {
    "410100": "河南省郑州市",
    "410102": "河南省郑州市中原区",
    "410103": "河南省郑州市二七区",
    "410104": "河南省郑州市管城回族区",
    "410105": "河南省郑州市金水区",
    "410106": "河南省郑州市上街区",
    "410108": "河南省郑州市惠济区",
    "410122": "河南省中牟县",
    "410181": "河南省巩义市",
    "410182": "河南省荥阳市",
    "410183": "河南省新密市",
    "410184": "河南省新郑市",
    "410185": "河南省登封市",
}
_REGION = re.compile(r"^\d{6}$")


def region_is_valid(code: str) -> bool:
    """A GB/T 2260 code: six digits under a known province. The full table changes yearly; we check shape."""
    return bool(_REGION.match(code or "")) and code[:2] in PROVINCES


def region_label(code: str) -> str:
    if not code:
        return ""
    if code in KNOWN_REGIONS:
        return KNOWN_REGIONS[code]
    province = PROVINCES.get(code[:2], "")
    return f"{province}（{code}）" if province else code
