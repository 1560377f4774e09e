"""Reminders in Chinese (simplified): the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import Language

WEEKDAYS = {"一": "MO", "二": "TU", "三": "WE", "四": "TH", "五": "FR", "六": "SA", "日": "SU"}

LANGUAGE = Language(
    code="zh",
    triggers=("提醒我", "提醒一下我"),
    trigger_anywhere=True,
    spaced=False,
    clocks=(
        r"(?P<meridiem>早上|上午|中午|下午|晚上)?\s*(?P<hour>\d{1,2})\s*[点點:：]\s*(?:(?P<half>半)|(?P<minute>\d{1,2})\s*分?)?",
    ),
    pm=("下午", "晚上", "中午"),
    am=("早上", "上午"),
    noon=(r"中午12点", r"中午"),
    tonight=(r"今晚", r"今天晚上"),
    relative=r"分钟|小时|\d+\s*天后",
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
    links=("以后", "之后", "后", "在", "，", ","),
    time_words=(
        "今天",
        "明天",
        "后天",
        "昨天",
        "早上",
        "晚上",
        "下午",
        "上午",
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
