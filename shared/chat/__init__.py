"""The bot in conversation: what it does with each inbound activity.

bot                  the ActivityHandler: save and forget references, route replies
teams_events         Teams lifecycle event names and the ids they carry, read case-insensitively
prompt_replies       replies taken as answers to a pending question
reminders            the reminder book; a reminder's time in the user's zone and language
reminder_dialog      set, list and cancel reminders from chat; ask back; done and snooze
reminder_phrases     what a request means: trigger, time or rule, task, or a question back
reminder_recognizer  dateparser (days, durations), loaded on the first reminder request
reminder_language    the shape of one language's words, clock patterns and answers
reminder_questions   a request asked back about, waiting for its answer
reminder_lang_en     English: its words, clock patterns and answers (and any locale's fallback)
reminder_lang_de     German
reminder_lang_fr     French
reminder_lang_es     Spanish
reminder_lang_zh     Chinese
reminder_lang_ko     Korean
"""
