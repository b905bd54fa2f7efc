"""Word lists the demo hospital draws from: names, places, free-text templates, codes.

Plain constants (no quotes, backslashes, commas or newlines inside any entry, so they are safe in JSON
strings and CSV fields; ``fmt`` still escapes free text). Texts come in Chinese and English.
"""

from __future__ import annotations

# Chinese surnames with pinyin and relative frequency.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "Wang", 7.1),
    ("李", "Li", 7.0),
    ("张", "Zhang", 6.7),
    ("刘", "Liu", 5.4),
    ("陈", "Chen", 4.5),
    ("杨", "Yang", 3.1),
    ("黄", "Huang", 2.2),
    ("赵", "Zhao", 2.0),
    ("吴", "Wu", 2.0),
    ("周", "Zhou", 1.9),
    ("徐", "Xu", 1.3),
    ("孙", "Sun", 1.2),
    ("马", "Ma", 1.1),
    ("朱", "Zhu", 1.1),
    ("胡", "Hu", 1.0),
    ("郭", "Guo", 1.0),
    ("何", "He", 0.9),
    ("高", "Gao", 0.9),
    ("林", "Lin", 0.9),
    ("罗", "Luo", 0.8),
    ("郑", "Zheng", 0.8),
    ("梁", "Liang", 0.7),
    ("谢", "Xie", 0.6),
    ("宋", "Song", 0.5),
    ("唐", "Tang", 0.5),
    ("许", "Xu", 0.5),
    ("韩", "Han", 0.4),
    ("冯", "Feng", 0.4),
    ("邓", "Deng", 0.4),
    ("曹", "Cao", 0.4),
    ("彭", "Peng", 0.4),
    ("曾", "Zeng", 0.4),
    ("肖", "Xiao", 0.4),
    ("田", "Tian", 0.3),
    ("董", "Dong", 0.3),
    ("袁", "Yuan", 0.3),
    ("潘", "Pan", 0.3),
    ("蒋", "Jiang", 0.3),
    ("蔡", "Cai", 0.3),
    ("余", "Yu", 0.3),
    ("杜", "Du", 0.3),
    ("叶", "Ye", 0.3),
    ("程", "Cheng", 0.3),
    ("苏", "Su", 0.3),
    ("魏", "Wei", 0.3),
    ("吕", "Lyu", 0.3),
    ("丁", "Ding", 0.3),
    ("沈", "Shen", 0.3),
    ("姚", "Yao", 0.2),
    ("陆", "Lu", 0.2),
    ("顾", "Gu", 0.2),
    ("钱", "Qian", 0.2),
    ("欧阳", "Ouyang", 0.05),
    ("司马", "Sima", 0.02),
)

GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("娟", "juan"),
    ("霞", "xia"),
    ("秀", "xiu"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("琳", "lin"),
    ("倩", "qian"),
    ("颖", "ying"),
    ("佳", "jia"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("梦", "meng"),
    ("萍", "ping"),
    ("玉", "yu"),
    ("兰", "lan"),
    ("慧", "hui"),
    ("雅", "ya"),
    ("诗", "shi"),
    ("晨", "chen"),
    ("悦", "yue"),
    ("璐", "lu"),
    ("莉", "li"),
)
GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("刚", "gang"),
    ("平", "ping"),
    ("辉", "hui"),
    ("鹏", "peng"),
    ("浩", "hao"),
    ("宇", "yu"),
    ("俊", "jun"),
    ("峰", "feng"),
    ("斌", "bin"),
    ("建", "jian"),
    ("国", "guo"),
    ("志", "zhi"),
    ("文", "wen"),
    ("博", "bo"),
    ("晨", "chen"),
    ("凯", "kai"),
    ("子", "zi"),
    ("轩", "xuan"),
)

EN_FIRST_FEMALE = (
    "Emma",
    "Olivia",
    "Sophie",
    "Anna",
    "Laura",
    "Sarah",
    "Julia",
    "Emily",
    "Hannah",
    "Claire",
    "Maria",
    "Chloe",
    "Grace",
    "Lucy",
    "Isabel",
    "Nina",
)
EN_FIRST_MALE = (
    "James",
    "Oliver",
    "Thomas",
    "Daniel",
    "Lukas",
    "David",
    "Michael",
    "Peter",
    "Samuel",
    "Jack",
    "Henry",
    "Paul",
    "Mark",
    "Felix",
    "Adam",
    "Noah",
)
EN_LAST = (
    "Smith",
    "Johnson",
    "Brown",
    "Miller",
    "Wilson",
    "Taylor",
    "Anderson",
    "Martin",
    "Schmidt",
    "Mueller",
    "Dubois",
    "Rossi",
    "Garcia",
    "Kim",
    "Park",
    "Tanaka",
    "Nguyen",
    "Clarke",
    "Evans",
    "Walker",
    "Moreau",
    "Fischer",
    "Jensen",
    "Novak",
)

# (city, district, 6-digit administrative code, postal code, weight). The hospital is in Shanghai.
DISTRICTS: tuple[tuple[str, str, str, str, float], ...] = (
    ("上海市", "黄浦区", "310101", "200001", 3),
    ("上海市", "徐汇区", "310104", "200030", 8),
    ("上海市", "长宁区", "310105", "200050", 6),
    ("上海市", "静安区", "310106", "200040", 8),
    ("上海市", "普陀区", "310107", "200060", 9),
    ("上海市", "虹口区", "310109", "200080", 6),
    ("上海市", "杨浦区", "310110", "200090", 8),
    ("上海市", "闵行区", "310112", "201100", 12),
    ("上海市", "宝山区", "310113", "201900", 9),
    ("上海市", "嘉定区", "310114", "201800", 5),
    ("上海市", "浦东新区", "310115", "200120", 16),
    ("上海市", "松江区", "310117", "201600", 5),
    ("上海市", "青浦区", "310118", "201700", 3),
    ("上海市", "奉贤区", "310120", "201400", 2),
    ("苏州市", "姑苏区", "320508", "215000", 2),
    ("杭州市", "西湖区", "330106", "310000", 1.5),
    ("南京市", "鼓楼区", "320106", "210000", 1),
    ("昆山市", "玉山镇", "320583", "215300", 1),
)
STREETS = (
    "南京西路",
    "淮海中路",
    "长寿路",
    "武宁路",
    "曹杨路",
    "中山北路",
    "四平路",
    "世纪大道",
    "张杨路",
    "漕溪北路",
    "虹桥路",
    "延安西路",
    "四川北路",
    "大连路",
    "沪闵路",
    "七莘路",
    "共和新路",
    "真北路",
    "莘庄路",
    "金科路",
    "人民路",
    "解放路",
    "建设路",
    "复兴中路",
    "天目西路",
    "宜山路",
    "古北路",
)

# Mobile prefixes (the first three digits of an 11-digit mainland number).
PHONE_PREFIXES = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    170,
    173,
    176,
    177,
    178,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
    191,
    198,
    199,
)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "foxmail.com")

# Survey comments by language and sentiment (negative, neutral, positive).
COMMENTS_ZH = (
    (
        "等了太久了 医生只看了五分钟",
        "排队时间太长 没有人告诉我要等多久",
        "护士态度很差 问问题不耐烦",
        "候诊区太挤了 连座位都没有",
        "挂号系统很混乱 白跑一趟",
        "检查结果等了一上午 非常失望",
    ),
    (
        "整体还可以 就是人有点多",
        "医生比较专业 但是等待时间偏长",
        "环境一般 服务还行",
        "流程还算顺利 希望能改进叫号系统",
        "停车不太方便 其他都可以",
    ),
    (
        "医生非常耐心 解释得很清楚",
        "护士很专业 服务周到 谢谢",
        "看病很顺利 没等多久",
        "环境干净 流程清楚 好评",
        "急诊处理很及时 非常感谢医护人员",
        "出院指导很详细 家属很放心",
    ),
)
COMMENTS_EN = (
    (
        "Waited far too long and nobody explained the delay",
        "The waiting room was overcrowded and dirty",
        "Staff were rude when I asked how long it would take",
        "Very disorganised. I was sent back and forth",
        "Four hours in the ER before anyone saw me",
    ),
    (
        "Doctor was fine but the wait was long",
        "Average experience. Signage could be better",
        "Good care but hard to find parking",
        "The process was OK once I found the right desk",
    ),
    (
        "The doctor was patient and explained everything clearly",
        "Nurses were kind and very professional",
        "Quick and efficient visit. Thank you",
        "Clean rooms and friendly staff",
        "Excellent emergency care",
    ),
)
CONTACT_PHONE_ZH = "（如有疑问请致电"
CONTACT_PHONE_EN = " Please call me back on "
CONTACT_EMAIL_ZH = "（我的邮箱："
CONTACT_EMAIL_EN = " My email is "
CONTACT_ID_ZH = "（身份证号："
CONTACT_ID_EN = " My ID number is "

# Complaint descriptions by category
# (waiting, attitude, communication, billing, environment, clinical, other).
COMPLAINTS_ZH = (
    ("急诊等候超过三个小时无人处理", "预约了时间还要排队两个小时", "叫号系统出错 错过就诊"),
    ("导诊台工作人员态度恶劣", "护士对老人说话很不客气", "医生看诊时一直看手机"),
    ("医生没有解释检查结果", "出院后不知道该怎么用药", "电话一直打不通 没人回复"),
    ("收费项目不清楚 多收了检查费", "医保结算出错 需要重新排队", "退费流程太复杂"),
    ("卫生间很脏 没有纸巾", "病房晚上太吵 无法休息", "候诊区空调坏了"),
    ("怀疑误诊 要求复查", "术后伤口感染没有及时处理", "药物过敏没有被询问"),
    ("停车场收费太高", "食堂饭菜质量差", "找不到科室指示牌"),
)
COMPLAINTS_EN = (
    ("Waited over three hours in the emergency department", "Had an appointment but still waited two hours"),
    ("Front desk staff were rude", "The nurse was dismissive of my mother"),
    ("No one explained my test results", "Unclear discharge instructions about medication"),
    ("I was charged twice for the same test", "Insurance claim was processed incorrectly"),
    ("Toilets were dirty", "The ward was too noisy at night"),
    ("I believe the diagnosis was wrong", "Wound infection after surgery was not followed up"),
    ("Parking is too expensive", "Signage to the clinic is confusing"),
)

# Public reviews by rating band (1-2, 3, 4-5).
REVIEWS_ZH = (
    ("排队太久 体验很差 不推荐", "服务态度差 再也不来了", "挂号难 等待时间长"),
    ("医生还行 就是人太多", "中规中矩 环境一般", "专家号太难挂"),
    ("医生专业 态度好 推荐", "环境干净 流程顺畅", "护士很温柔 孩子不害怕", "急诊效率很高 点赞"),
)
REVIEWS_EN = (
    ("Terrible wait times. Would not recommend", "Unfriendly staff and chaotic process"),
    ("Decent doctors but very crowded", "Okay hospital. Long queues"),
    (
        "Excellent doctors and clean facilities",
        "Fast and professional emergency care",
        "Friendly English-speaking staff",
    ),
)

# Campaign names by type
# (screening_day, health_lecture, livestream, community_clinic, search_ads, social_post).
CAMPAIGN_NAMES_ZH = ("免费筛查日", "健康大讲堂", "专家直播间", "社区义诊", "搜索推广", "公众号推文")
CAMPAIGN_NAMES_EN = (
    "Screening Day",
    "Health Lecture",
    "Expert Livestream",
    "Community Clinic",
    "Search Ads",
    "Social Post",
)
CAMPAIGN_BUDGETS = (30_000.0, 6_000.0, 15_000.0, 20_000.0, 60_000.0, 8_000.0)  # at scale 1
CAMPAIGN_DAYS = ((1, 1), (1, 1), (1, 1), (1, 3), (21, 60), (7, 14))  # duration range by type
CAMPAIGN_TYPE_WEIGHTS = (0.15, 0.2, 0.15, 0.1, 0.15, 0.25)

# Conditions (a resource type the pipeline does not use): ICD-10 code and display.
CONDITIONS = (
    ("J06.9", "Acute upper respiratory infection"),
    ("I10", "Essential hypertension"),
    ("E11.9", "Type 2 diabetes mellitus"),
    ("S52.5", "Fracture of lower end of radius"),
    ("K35.8", "Acute appendicitis"),
    ("R07.4", "Chest pain"),
    ("L20.9", "Atopic dermatitis"),
    ("H10.9", "Conjunctivitis"),
)

# ED locations: (id, name, role or "" when the role must be read from the id/display).
ED_LOCATIONS: tuple[tuple[str, str, str], ...] = (
    ("ed-waiting-a", "急诊候诊区A", "waiting-room"),
    ("ed-waiting-peds", "儿科急诊候诊区 (waiting)", ""),
    ("ed-triage-1", "急诊预检分诊台", "triage"),
    ("ed-triage-2", "Triage desk 2", ""),
) + tuple((f"ed-bay-{i:02d}", f"急诊诊室{i:02d}", "treatment-room" if i <= 8 else "") for i in range(1, 13))
N_WAITING, N_TRIAGE, N_BAYS = 2, 2, 12
