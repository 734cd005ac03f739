"""The `ft_mock` fixture: a session mock emptied for each test, its markers, its messages."""

from __future__ import annotations

from tests.plugin.conftest import RunSuite

pytest_plugins = ["pytester"]


def test_publish_to_session_mock(run_suite: RunSuite) -> None:
    """The operator publishes with `ft_mock.headers` to `ft_mock.url`; wait_for returns it."""
    result = run_suite(
        """
        def test_login(ft_mock, ft_mock_server, login):
            assert ft_mock.url == ft_mock_server
            assert login() == 200
            [event] = ft_mock.wait_for("LOGIN_V2", user_id="7001")
            assert event["payload"]["origin"] == "example.com"
        """
    )
    result.assert_outcomes(passed=1)


def test_reset_mock_between_tests(run_suite: RunSuite) -> None:
    """What one test published and the faults it added are gone in the next."""
    result = run_suite(
        """
        def test_first(ft_mock, login):
            login()
            ft_mock.add_fault("503 type=LOGIN_V2")

        def test_second(ft_mock, login):
            assert ft_mock.events() == []
            assert login() == 200
        """
    )
    result.assert_outcomes(passed=2)


def test_explain_wait_for_timeout(run_suite: RunSuite) -> None:
    """A wait_for that times out says what it wanted and what arrived instead, and why."""
    result = run_suite(
        """
        import httpx

        def test_payment(ft_mock):
            body = {"user_id": "7001", "amount": -5}
            httpx.post(f"{ft_mock.url}/v1/integration/payment", json=body, headers=ft_mock.headers)
            ft_mock.wait_for("PAYMENT", user_id="7001", timeout=0.2)
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*wanted 1 event(s) (type=PAYMENT, user_id=7001, verdict=accepted) within 0.2 s",
            "*newest arrivals:",
            "*#* PAYMENT user 7001: rejected 400 (*$.amount: must be >= 0*",
        ]
    )


def test_apply_fault_marker(run_suite: RunSuite) -> None:
    """`ft_mock(faults=[...])` adds the test's fault rules before it runs."""
    result = run_suite(
        """
        import pytest

        @pytest.mark.ft_mock(faults=["503 type=LOGIN_V2 times=1"])
        def test_refused_once(ft_mock, login):
            assert [login(), login()] == [503, 200]
        """
    )
    result.assert_outcomes(passed=1)


def test_load_callbacks_from_marker(run_suite: RunSuite) -> None:
    """`ft_mock(callbacks=...)` loads a ready-made set and a rule given as a mapping."""
    result = run_suite(
        """
        import httpx
        import pytest

        RULE = {
            "id": "on-login",
            "trigger": {"event": "LOGIN_V2"},
            "request": {"url": "http://127.0.0.1:9/hook", "body": {"user_id": "#UserId#"}},
        }

        @pytest.mark.ft_mock(callbacks=["cancel-bonus", RULE])
        def test_rules(ft_mock):
            rules = httpx.get(f"{ft_mock.url}/_mock/callbacks/rules").json()["data"]
            assert [r["id"] for r in rules] == ["cancel-bonus-on-withdrawal", "on-login"]
        """,
        "--ft-operator-url=http://127.0.0.1:9",  # where the set's {operator_url} points
    )
    result.assert_outcomes(passed=1)


def test_load_callback_rules_from_file(run_suite: RunSuite) -> None:
    """load_callbacks reads a rule file on this machine and sends its rules to the mock."""
    result = run_suite(
        """
        from pathlib import Path

        RULES = '''
        rules:
          - id: on-login
            trigger: {event: LOGIN_V2}
            request: {url: "http://127.0.0.1:9/hook", body: {user_id: "#UserId#"}}
        '''

        def test_rules(ft_mock, tmp_path):
            path = tmp_path / "rules.yaml"
            path.write_text(RULES)
            assert ft_mock.load_callbacks(path) == ["on-login"]
        """,
        "--ft-operator-url",  # a rule may call the operator's origin only
        "http://127.0.0.1:9",
    )
    result.assert_outcomes(passed=1)


def test_refuse_unknown_marker_argument(run_suite: RunSuite) -> None:
    """A misspelt marker argument fails the test instead of being ignored."""
    result = run_suite(
        """
        import pytest

        @pytest.mark.ft_mock(fault=["503"])
        def test_it(ft_mock):
            pass
        """
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*ft_mock takes faults=[[]...[]] and callbacks=[[]...[]], not fault"]
    )


def test_report_mock_refusal_as_assertion(run_suite: RunSuite) -> None:
    """A refusal of the mock is an AssertionError in its words, without httpx's traceback."""
    result = run_suite(
        """
        def test_player(ft_mock):
            ft_mock.player("nobody")
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: mock-ft: GET /_mock/players/nobody answered 404: no accepted event*"]
    )
    result.stdout.no_fnmatch_line("*httpx*")


def test_refuse_unreadable_fault_words(run_suite: RunSuite) -> None:
    """Fault words the mock could not read fail with the word that is wrong."""
    result = run_suite(
        """
        def test_fault(ft_mock):
            ft_mock.add_fault("503 bogus=1")
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*fault rule '503 bogus=1': *bogus*"])


def test_refuse_unknown_callback_set(run_suite: RunSuite) -> None:
    """An unknown rule set names the ones there are."""
    result = run_suite(
        """
        def test_set(ft_mock):
            ft_mock.load_callbacks("no-such-set")
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no ready-made rule set of that name; sets: *cancel-bonus*"])


def test_explain_missing_callback(run_suite: RunSuite) -> None:
    """wait_for_callback that times out says what fired and which rules are loaded."""
    result = run_suite(
        """
        def test_callback(ft_mock):
            ft_mock.wait_for_callback("cancel-bonus-on-withdrawal", timeout=0.1)
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no Callback Action (rule=cancel-bonus-on-withdrawal, user_id=None) within 0.1 s; "
            "fired: none; rules loaded: none (mark the test ft_mock(callbacks=[[]...[]]))"
        ]
    )


def test_read_empty_mock_listings(run_suite: RunSuite) -> None:
    """Lookups, callbacks, faults and the delivery report of a fresh test are empty."""
    result = run_suite(
        """
        def test_empty(ft_mock):
            ft_mock.clear_faults()
            assert ft_mock.lookups(user_id="7001") == []
            assert ft_mock.callbacks(ok=True) == []
            assert ft_mock.delivery()["attempts"] == 0
        """
    )
    result.assert_outcomes(passed=1)


def test_wait_until_mock_idle(run_suite: RunSuite) -> None:
    """`ft_mock.idle()` returns once the reactions to what arrived are done: then "no callback
    fired" can be asserted without sleeping."""
    result = run_suite(
        """
        def test_quiet(ft_mock, login):
            assert login() == 200
            ft_mock.idle()
            assert ft_mock.callbacks() == []
            assert len(ft_mock.lookups()) == 0
        """
    )
    result.assert_outcomes(passed=1)
