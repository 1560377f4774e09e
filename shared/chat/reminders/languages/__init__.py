"""One module per language, each holding one `Language`: every word the reminders read or write.

en  English: its words, clock patterns and answers (and any locale's fallback)
de  German
fr  French
es  Spanish
zh  Chinese
ko  Korean
"""
