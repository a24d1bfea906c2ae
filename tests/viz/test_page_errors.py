"""A failure below a page's frame (a click's handler) ends in one line and a way back, never a traceback."""

from __future__ import annotations

import logging

import ipyvuetify as vw
import solara

from tokenomy.viz.app import ClassroomFrame


def test_a_failing_click_shows_one_line_and_back_brings_the_page_again(caplog):
    calls = []

    @solara.component
    def Broken():
        def fail():
            calls.append(1)
            raise ValueError("the price must be a number,\nnot 'abc'")

        solara.Button("Submit", on_click=fail)

    box, rc = solara.render(ClassroomFrame(Broken), handle_error=False)
    try:
        with caplog.at_level(logging.WARNING):
            rc.find(vw.Btn, children=["Submit"]).widget.click()
        assert calls == [1]
        alerts = rc.find(vw.Alert).widgets
        assert len(alerts) == 1
        text = " ".join(str(child) for child in alerts[0].children)
        # one line (the message's own line break escaped), no frames of the traceback: those go to the log
        assert text.startswith("That did not work: the price must be a number,") and "\n" not in text
        assert "'abc'" in text and "Traceback" not in text and "in fail" not in text
        assert "a classroom page failed" in caplog.text and "in fail" in caplog.text
        rc.find(vw.Btn, children=["Back"]).widget.click()
        assert rc.find(vw.Alert).widgets == []
        rc.find(vw.Btn, children=["Submit"]).assert_single()
    finally:
        rc.close()
