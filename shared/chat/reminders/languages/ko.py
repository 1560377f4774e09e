"""Reminders in Korean: the words the bot reads, its clock patterns, its answers."""

from shared.chat.reminders.language import Language

WEEKDAYS = {"월": "MO", "화": "TU", "수": "WE", "목": "TH", "금": "FR", "토": "SA", "일": "SU"}

LANGUAGE = Language(
    code="ko",
    triggers=("알려줘", "알려 줘", "리마인드", "상기시켜 줘", "상기시켜줘"),
    trigger_anywhere=True,
    clocks=(
        r"(?:(?P<meridiem>오전|오후|아침|저녁|밤)\s*)?(?P<hour>\d{1,2})\s*시(?:\s*(?:(?P<half>반)|(?P<minute>\d{1,2})\s*분))?(?:에)?",
    ),
    pm=("오후", "저녁", "밤"),
    am=("오전", "아침"),
    tonight=(r"오늘\s*밤", r"오늘\s*저녁"),
    durations=(r"(?P<amount>\d+)\s*(?P<unit>분|시간)\s*(?:후|뒤)(?:에)?",),
    units={"분": 1, "시간": 60},
    relative=r"후|뒤",
    every=(
        (r"평일마다|매주\s*평일", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (r"매일", "FREQ=DAILY"),
        *((rf"매주\s*{name}요일", f"FREQ=WEEKLY;BYDAY={day}") for name, day in WEEKDAYS.items()),
        (r"(\d+)\s*시간마다", "FREQ=HOURLY;INTERVAL={0}"),
    ),
    links=("에", "을", "를", "라고", "하라고"),
    time_words=("오늘", "내일", "모레", "어제", "아침", "저녁", "밤", "나중에", "이따가"),
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
