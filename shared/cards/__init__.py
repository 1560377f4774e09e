"""Adaptive Cards: templates expanded with a webhook's data, checked before anything is sent.

expressions  the binding expressions of card templates (`${...}`), the documented subset
templating   a template expanded with data: bindings, $data, $when, $root, $index
templates    templates by name from cards/, or inline, with their data; the card each recipient gets
validation   an Adaptive Card Teams renders (version 1.5 at most), fully filled, under 28 KB
questions    a question as a card with a button per choice, and the card once answered
"""
