"""What the study cog said to recent questions, kept across a restart (both backends): read back
as it was written, the reply's look included; gone once its edit window is over, or on /forget-me."""

from __future__ import annotations

from bot.state import StateStore
from bot.state.asked import Asked

LOOK = ("", {"title": "LoRA", "description": "Low-rank adaptation …", "color": 5793266, "type": "rich",
             "fields": [{"name": "Other matches", "value": "QLoRA", "inline": False}]},
        [[{"type": 2, "custom_id": "gloss:show:QLoRA", "label": "QLoRA", "style": 2, "disabled": False}]])


def _asked(created: float, author: int = 7, **changes) -> Asked:
    return Asked(("what is lora", False), created, True, 501, 42, look=LOOK, author_id=author, **changes)


def test_a_restart_reads_back_what_was_said(state_target):
    store = StateStore(state_target)
    store.asked.save(500, _asked(1000.0), expires=1300.0, now=1000.0)
    store.asked.save(500, _asked(1000.0, reanswers=2, searches=3, stopped=True, used_by_others=True),
                     expires=1300.0, now=1010.0)  # an edit: the same row, updated
    store.close()
    restarted = StateStore(state_target)
    try:
        assert restarted.asked.load(500) == _asked(1000.0, reanswers=2, searches=3, stopped=True,
                                                   used_by_others=True)
        assert restarted.asked.load(501) is None and restarted.asked.count() == 1
    finally:
        restarted.close()


def test_rows_go_once_their_edit_window_is_over_when_the_table_is_written(store):
    store.asked.save(1, _asked(1000.0), expires=1300.0, now=1000.0)
    store.asked.save(2, _asked(1200.0), expires=1500.0, now=1200.0)
    store.asked.save(3, _asked(1301.0), expires=1601.0, now=1301.0)  # 1 expired at 1300
    assert [store.asked.load(i) is not None for i in (1, 2, 3)] == [False, True, True]
    store.asked.delete(2)  # its question deleted
    assert store.asked.count() == 1


def test_forgetting_a_user_takes_their_rows_only(store):
    store.asked.save(1, _asked(1000.0, author=7), expires=1300.0, now=1000.0)
    store.asked.save(2, _asked(1000.0, author=8), expires=1300.0, now=1000.0)
    store.study.forget_user(7)
    assert store.asked.load(1) is None and store.asked.load(2) is not None
