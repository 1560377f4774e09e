"""Every row of the reminder phrase table (testbed/reminder_phrases.py) is what the product makes
of that phrase: the reminder it sets, or the question it asks back."""

from __future__ import annotations

from collections import Counter

import pytest

from testbed.reminder_phrases import PHRASES, outcome


@pytest.mark.parametrize(
    ("locale", "zone", "text", "expected"), PHRASES, ids=[row[2] for row in PHRASES]
)
def test_a_phrase_becomes_its_reminder_or_a_question(locale, zone, text, expected):
    assert outcome(locale, zone, text) == expected


def test_the_table_has_at_least_two_hundred_phrases_and_twenty_five_in_each_language():
    per_language = Counter(locale[:2] for locale, *_ in PHRASES)

    assert len(PHRASES) >= 200
    assert set(per_language) == {"en", "de", "fr", "es", "zh", "ko"}
    assert min(per_language.values()) >= 25
