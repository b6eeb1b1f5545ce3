"""The message catalogue: every topic speaks both languages, with the same keys."""

from __future__ import annotations

from typing import Any

import pytest

from pilotzone import _codes, _messages
from pilotzone._messages import LANGS, STATUS, TOPICS, ZONE_STATUS, check_lang


def _missing(topic: dict[str, dict[Any, str]]) -> dict[str, list[str]]:
    """Per language, the keys another language of ``topic`` has and it lacks."""
    keys = set().union(*(topic.get(lang, {}) for lang in LANGS))
    return {
        lang: sorted(map(repr, keys - set(topic.get(lang, {}))))
        for lang in LANGS
        if keys - set(topic.get(lang, {}))
    }


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_every_key_exists_in_both_languages(name: str) -> None:
    topic = TOPICS[name]
    assert set(topic) == set(LANGS)
    assert not _missing(topic)
    assert all(isinstance(text, str) for lang in LANGS for text in topic[lang].values())


def test_the_check_catches_a_key_missing_in_one_language() -> None:
    broken = {"en": {"a": "A", "b": "B", None: "?"}, "zh": {"a": "甲", None: "？"}}
    assert _missing(broken) == {"zh": ["'b'"]}
    assert _missing({"en": {}, "zh": {True: "是"}}) == {"en": ["True"]}
    assert _missing({"en": {"a": "A"}}) == {"zh": ["'a'"]}


def test_every_topic_is_listed() -> None:
    bilingual = {
        name
        for name, value in vars(_messages).items()
        if name.isupper() and isinstance(value, dict) and set(value) == set(LANGS)
    }
    assert bilingual == set(TOPICS)


def test_status_words_cover_the_codes() -> None:
    for lang in LANGS:
        assert set(STATUS[lang]) == set(_codes.STATUSES)
        assert set(_codes.ZONE_STATUSES) <= set(ZONE_STATUS[lang])


@pytest.mark.parametrize("lang", ["fr", "EN", None, ""])
def test_an_unknown_language_is_refused(lang: Any) -> None:
    with pytest.raises(ValueError, match="lang must be 'en' or 'zh'"):
        check_lang(lang)


def test_the_known_languages_pass() -> None:
    for lang in LANGS:
        check_lang(lang)
