"""Reminders in Chinese (simplified): the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import DayPart, Language, one_of

WEEKDAYS = {"一": "MO", "二": "TU", "三": "WE", "四": "TH", "五": "FR", "六": "SA", "日": "SU"}
_DIGITS = "一二三四五六七八九"


def _numeral(n: int) -> str:
    """1-99 as people write them: 十, 十五, 二十, 二十五."""
    tens, ones = divmod(n, 10)
    return (f"{_DIGITS[tens - 1] if tens > 1 else ''}十" if tens else "") + (
        _DIGITS[ones - 1] if ones else ""
    )


AMOUNTS = {**{_numeral(n): n for n in range(1, 100)}, "两": 2, "半": 0.5}
UNITS = {
    "秒": 1 / 60, "秒钟": 1 / 60, "分": 1, "分钟": 1, "小时": 60, "钟头": 60, "天": 1440,
    "周": 10080, "星期": 10080, "礼拜": 10080,
}  # fmt: skip
_DURATION = (
    rf"(?P<amount>\d+(?:\.\d+)?|{one_of(AMOUNTS)})\s*个?\s*(?P<half>半)?\s*(?P<unit>{one_of(UNITS)})"
    r"(?:\s*(?P<more>\d{1,2})\s*分钟?)?"
)
SMALL_HOURS, MORNING, NOON = range(0, 6), range(4, 12), range(11, 14)
AFTERNOON, DUSK, EVENING = range(12, 20), range(16, 20), range(17, 24)

LANGUAGE = Language(
    code="zh",
    triggers=("记得提醒我", "提醒我一下", "提醒一下我", "提醒下我", "提醒我"),
    trigger_anywhere=True,
    spaced=False,
    polite=("请", "麻烦你?", "帮我"),
    clocks=(
        r"(?P<meridiem>中午)?\s*(?P<hour>\d{1,2})\s*[点點:：]\s*(?:(?P<half>半)|(?P<minute>\d{1,2})\s*分?)?",
    ),
    meridiems={"中午": NOON},
    day_parts=(
        DayPart(r"今晚|今天晚上", EVENING, today=True),
        DayPart(r"今早|今天早上|今天上午", MORNING, today=True),
        DayPart(r"今天下午", AFTERNOON, today=True),
        DayPart(r"凌晨", SMALL_HOURS),
        DayPart(r"早上|早晨|上午", MORNING),
        DayPart(r"下午", AFTERNOON),
        DayPart(r"傍晚", DUSK),
        DayPart(r"晚上", EVENING),
    ),
    noon=(r"中午", r"正午"),
    midnight=(r"午夜", r"零点"),
    durations=(rf"{_DURATION}\s*(?:以后|之后|后)", rf"过\s*{_DURATION}"),
    units=UNITS,
    amounts=AMOUNTS,
    relative=r"分钟|小时|\d+\s*天后",
    unsure=(
        r"(?<![\d.])\d+\s*(?:以后|之后|后)",  # "5后": 5 what?
        r"\d{1,2}\s*[点點:：]\s*(?:半|\d{1,2}\s*分?)?\s*(?:以后|之后|后|以前|之前|前|左右)",
        r"(?:几|若干)\s*个?\s*(?:分钟|小时|钟头|天)",
        r"(?:一会|待会|等会)儿?",
    ),
    every=(
        (r"每个?工作日", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (r"每天", "FREQ=DAILY"),
        *(
            (rf"每(?:周|个?星期){name}", f"FREQ=WEEKLY;BYDAY={day}")
            for name, day in WEEKDAYS.items()
        ),
        (r"每(\d+)个?小时", "FREQ=HOURLY;INTERVAL={0}"),
        (r"每小时", "FREQ=HOURLY;INTERVAL=1"),
    ),
    links=("以后", "之后", "后", "在", "，", ",", "一下"),
    time_words=(
        "今天",
        "明天",
        "后天",
        "昨天",
        "早上",
        "晚上",
        "下午",
        "上午",
        "凌晨",
        "中午",
        "傍晚",
        "分钟",
        "小时",
        "点",
        "以后",
        "待会",
    ),
    list_commands=("查看提醒", "我的提醒", "提醒列表"),
    cancel_commands=("取消", "取消提醒"),
    answers={
        "set": "好的：我会在{when}提醒你{task}。",
        "set_series": "好的：我会{rule}提醒你{task}，第一次在{when}。",
        "ask_when": "我应该什么时候提醒你{task}？",
        "ask_what": "要提醒你什么？",
        "help": (
            "我可以设置提醒，例如“提醒我10分钟后喝水”或“每天早上8点提醒我跑步”。"
            "说“我的提醒”查看，说“取消 1”删除。"
        ),
        "list": "你的提醒：",
        "none": "你没有提醒。",
        "cancelled": "已取消提醒 {number}：{task}。",
        "no_such": "没有提醒 {number}。说“我的提醒”查看。",
        "reminder": "⏰ 提醒：{task}",
        "done": "完成",
        "snooze": "10分钟后再提醒",
        "done_ack": "已完成：{task}。",
        "snoozed": "已推迟：我会在{when}提醒你{task}。",
        "at": "{time}",
        "on": "{date}",
        "in": "{duration}后",
        "date": "%m月%d日",
        "every_day": "每天{time}",
        "every_weekday": "每个工作日{time}",
        "every_week": "每{day}{time}",
        "every_hours": "每{n}小时",
        "every_minutes": "每{n}分钟",
        "weekdays": "周一 周二 周三 周四 周五 周六 周日",
        "minute": "{n}分钟",
        "minutes": "{n}分钟",
        "hour": "{n}小时",
        "hours": "{n}小时",
        "day": "{n}天",
        "days": "{n}天",
    },
)
