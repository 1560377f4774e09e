"""Reminders in Korean: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import DayPart, Language, one_of

WEEKDAYS = {"월": "MO", "화": "TU", "수": "WE", "목": "TH", "금": "FR", "토": "SA", "일": "SU"}
AMOUNTS = {
    "한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
    "열": 10, "반": 0.5,
}  # fmt: skip
UNITS = {"초": 1 / 60, "분": 1, "시간": 60, "일": 1440, "주": 10080, "주일": 10080}
AM, PM, DAYTIME = range(0, 12), range(12, 24), range(11, 17)
SMALL_HOURS, MORNING, EVENING, NIGHT = range(0, 7), range(4, 12), range(17, 24), range(19, 24)


def _word(word: str) -> str:
    """`word` standing alone ("밤 12시", "밤에"), not inside another ("밤새", "아침밥")."""
    return rf"(?<!\S){word}(?=\s|\d|에|$)"


LANGUAGE = Language(
    code="ko",
    triggers=(
        *("알려주세요", "알려 주세요", "알려줄래요", "알려줄래", "알려 줄래", "알려줘요"),
        *("알려줘", "알려 줘", "리마인드해줘", "리마인드 해줘", "리마인드"),
        *("상기시켜 줘", "상기시켜줘"),
    ),
    trigger_anywhere=True,
    clocks=(
        # "시" is the clock's; "시간" counts hours ("2시간 뒤에", "3시간 회의": no clock time).
        r"(?:(?P<meridiem>오전|오후|낮)\s*)?(?P<hour>\d{1,2})\s*시(?!간)(?:\s*(?:(?P<half>반)|(?P<minute>\d{1,2})\s*분))?(?:에)?",
    ),
    meridiems={"오전": AM, "오후": PM, "낮": DAYTIME},
    day_parts=(
        DayPart(r"오늘\s*밤", NIGHT, today=True),
        DayPart(r"오늘\s*저녁", EVENING, today=True),
        DayPart(r"오늘\s*아침", MORNING, today=True),
        DayPart(_word("새벽"), SMALL_HOURS),
        DayPart(_word("아침"), MORNING),
        DayPart(_word("저녁"), EVENING),
        DayPart(_word("밤"), NIGHT),
    ),
    noon=(r"정오(?:에)?",),
    midnight=(r"자정(?:에)?",),
    durations=(
        rf"(?P<amount>\d+(?:\.\d+)?|{one_of(AMOUNTS)})\s*(?P<unit>{one_of(UNITS)})\s*(?P<half>반)?"
        r"\s*(?:(?P<more>\d{1,2})\s*분\s*)?(?:후|뒤|있다가|이따가)(?:에)?",
    ),
    units=UNITS,
    amounts=AMOUNTS,
    relative=r"후|뒤",
    unsure=(
        r"(?<![\d.])\d+\s*(?:후|뒤)",  # "5 후에": 5 what?
        r"\d{1,2}\s*시(?!간)\s*(?:반|\d{1,2}\s*분)?\s*(?:이후|후|뒤|이전|전|쯤|경|넘어서)",
        r"몇\s*(?:분|시간|일)(?:\s*(?:후|뒤)(?:에)?)?",
    ),
    every=(
        (r"평일마다|매주\s*평일", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (r"매일", "FREQ=DAILY"),
        *((rf"매주\s*{name}요일", f"FREQ=WEEKLY;BYDAY={day}") for name, day in WEEKDAYS.items()),
        (r"(\d+)\s*시간마다", "FREQ=HOURLY;INTERVAL={0}"),
    ),
    links=("에", "을", "를", "라고", "하라고", "좀", "꼭"),
    time_words=(
        *("오늘", "내일", "모레", "어제", "새벽", "아침", "낮", "저녁", "밤"),
        *("나중에", "이따가"),
    ),
    list_commands=("알림 목록", "리마인더 목록", "내 알림"),
    cancel_commands=("취소", "알림 취소"),
    answers={
        "set": "알겠어요: {when}에 {task} 알려 드릴게요.",
        "set_series": "알겠어요: {rule} {task} 알려 드릴게요. 처음은 {when}.",
        "ask_when": "{task}, 언제 알려 드릴까요?",
        "ask_what": "무엇을 알려 드릴까요?",
        "help": (
            "“10분 후에 물 마시기 알려줘”나 “매일 오전 7시에 비타민 알려줘”처럼 말해 보세요. "
            "“알림 목록”으로 보고, “취소 1”로 지울 수 있어요."
        ),
        "list": "알림 목록:",
        "none": "알림이 없어요.",
        "cancelled": "알림 {number} 취소: {task}.",
        "no_such": "알림 {number}은(는) 없어요. “알림 목록”으로 확인하세요.",
        "reminder": "⏰ 알림: {task}",
        "done": "완료",
        "snooze": "10분 후 다시",
        "done_ack": "완료: {task}.",
        "snoozed": "미뤘어요: {when}에 {task} 알려 드릴게요.",
        "at": "{time}",
        "on": "{date}",
        "in": "{duration} 후",
        "date": "%m월 %d일",
        "every_day": "매일 {time}",
        "every_weekday": "평일마다 {time}",
        "every_week": "매주 {day} {time}",
        "every_hours": "{n}시간마다",
        "every_minutes": "{n}분마다",
        "weekdays": "월요일 화요일 수요일 목요일 금요일 토요일 일요일",
        "minute": "{n}분",
        "minutes": "{n}분",
        "hour": "{n}시간",
        "hours": "{n}시간",
        "day": "{n}일",
        "days": "{n}일",
    },
)
