"""Reminders: "remind me tomorrow at 9 to call Ada", understood, stored and sent on time.

book        the reminder book; a reminder's time in the user's zone, and a series' next one
dialog      set, list and cancel reminders from chat; ask back; done and snooze
phrases     what a request means: trigger, time or rule, task, or a question back
recognizer  dateparser (days, durations), loaded on the first reminder request
language    the shape of one language's words, clock patterns and answers
questions   a request asked back about, waiting for its answer
languages/  one module per language
"""
