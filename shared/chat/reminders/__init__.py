"""Reminders: "remind me tomorrow at 9 to call Ada", understood, stored and sent on time.

book        the reminder book; a reminder's time in the user's zone, and a series' next one
dialog      set, list and cancel reminders from chat; ask back; done and snooze
phrases     what a request means: trigger, time or rule, task, or a question back
clock       a clock time placed by the part of the day around it ("at 9 in the evening"), or unsure
reading     a request as it is read: what was read blanked out, what was kept in typed order
recognizer  dateparser (days, durations), loaded on the first reminder request
language    the shape of one language's words, clock patterns and answers
questions   a request asked back about, waiting for its answer
languages/  one module per language
"""
