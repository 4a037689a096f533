"""People's names the Vietnamese way: shown in the order they are written, sorted by given name.

A Vietnamese name is written family name, middle name(s), given name: "Nguyễn Văn Quý". Django's
user has two fields; here `last_name` holds the family and middle names ("Nguyễn Văn") and
`first_name` the given name ("Quý"), and `person_name` puts them back in the written order
(Django's own `get_full_name` would say "Quý Nguyễn Văn"). Members (borrowers) keep their full
name as one field, as written.

Lists of people are sorted the way Vietnamese lists are: by the given name (the last word),
then the family and middle names, in the Vietnamese alphabet (a ă â b c d đ e ê g … ư v x y),
with the tone marks deciding only between names otherwise equal (no mark, huyền, hỏi, ngã,
sắc, nặng). `name_sort_key` gives that order as a plain string of digits, which sorts the same
byte by byte and under any database collation, so it can be stored and indexed.
"""

from __future__ import annotations

import unicodedata

# The Vietnamese alphabet, then the foreign letters (f, j, w, z) after it.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxyfjwz"
_PRIMARY = {letter: f"{i + 10:02d}" for i, letter in enumerate(_ALPHABET)}
# Tone marks (combining characters after NFD) in the traditional order.
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
# Marks that make a letter of its own (ă â ê ô ơ ư), recombined with their base.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_WORD_END = "00"
# The stored key's length (a model field's max_length); a longer key is cut, which can only
# blur the order of names of more than about 150 letters.
NAME_SORT_KEY_LENGTH = 512


def person_name(user) -> str:
    """The name to show for a user: "Nguyễn Văn Quý" (family, middle, given), else the login."""
    if user is None:
        return ""
    written = " ".join(p for p in (user.last_name.strip(), user.first_name.strip()) if p)
    return written or user.get_username()


def person_name_split(full_name: str) -> tuple[str, str]:
    """A name as written ("Nguyễn Văn Quý") into the user's two fields: (family and middle
    names, given name) = ("Nguyễn Văn", "Quý"), the ``last_name`` and ``first_name`` that
    ``person_name`` puts back together."""
    words = full_name.split()
    if not words:
        return "", ""
    return " ".join(words[:-1]), words[-1]


def _letters(word: str):
    """(letter of the Vietnamese alphabet, tone digit) for each letter of `word`."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    letter, tone = None, "0"
    for ch in decomposed:
        if unicodedata.combining(ch):
            if ch in _TONES:
                tone = _TONES[ch]
            elif ch in _LETTER_MARKS and letter is not None:
                letter = unicodedata.normalize("NFC", letter + ch)
            continue
        if letter is not None:
            yield letter, tone
        letter, tone = ch, "0"
    if letter is not None:
        yield letter, tone


def _word_key(word: str) -> tuple[str, str]:
    primary, secondary = [], []
    for letter, tone in _letters(word):
        code = _PRIMARY.get(letter)
        if code is None:
            if not letter.isalnum():
                continue
            # Digits and letters of other alphabets: after the Vietnamese ones, by code point.
            code = f"9{ord(letter):06d}"
        primary.append(code)
        secondary.append(tone)
    return "".join(primary) + _WORD_END, "".join(secondary)


def name_sort_key(full_name: str) -> str:
    """A key that sorts full names as Vietnamese lists do: given name first, then the family and
    middle names, letters in the Vietnamese alphabet, tones last. Digits only."""
    words = full_name.split()
    if not words:
        return ""
    ordered = [words[-1], *words[:-1]]
    keys = [_word_key(w) for w in ordered]
    key = "".join(p for p, _ in keys) + "0" + "".join(s for _, s in keys)
    return key[:NAME_SORT_KEY_LENGTH]
