"""`price follow`'s pure rules: its options, reading a ticker answer, the back-off and the jump rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginctl.domain import follow
from marginctl.domain.errors import InvalidInput

TICKS = {"BTC/USDT": Decimal("0.01"), "ETH/BTC": Decimal("0.00001")}
BTC = {"BTC/USDT": Decimal("0.01")}


def test_the_source_is_a_base_url_without_its_trailing_slash() -> None:
    assert follow.parse_source("https://api.binance.com/") == "https://api.binance.com"
    assert follow.parse_source("HTTP://127.0.0.1:8080/proxy/") == "http://127.0.0.1:8080/proxy"


@pytest.mark.parametrize(
    "text", ["ftp://example.org", "file:///etc/passwd", "api.binance.com", "http://", "http://h:99999", "http://h/?a=1"]
)
def test_a_source_other_than_an_http_base_url_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        follow.parse_source(text)


def test_a_source_with_a_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        follow.parse_source("https://me:s3cret@api.binance.com")
    assert "s3cret" not in refused.value.message and "me:" not in refused.value.message


def test_one_pair_asks_with_symbol_and_several_with_a_json_array() -> None:
    assert follow.ticker_url("http://h", ["BTC/USDT"]) == "http://h/api/v3/ticker/price?symbol=BTCUSDT"
    # ["BTCUSDT","ETH/BTC" → "ETHBTC"] URL-encoded: [ %5B, " %22, , %2C, ] %5D
    assert (
        follow.ticker_url("http://h", ["BTC/USDT", "ETH/BTC"])
        == "http://h/api/v3/ticker/price?symbols=%5B%22BTCUSDT%22%2C%22ETHBTC%22%5D"
    )


@pytest.mark.parametrize(("text", "seconds"), [("2", Decimal(2)), ("0.1", Decimal("0.1")), ("3600", Decimal(3600))])
def test_every_takes_seconds_from_a_tenth_to_an_hour(text: str, seconds: Decimal) -> None:
    assert follow.parse_seconds(text, "--every", follow.EVERY_RANGE) == seconds


@pytest.mark.parametrize("text", ["0", "0.05", "3601", "-1", "1e3", "two", "", "0.0001", "NaN"])
def test_every_outside_its_bounds_or_not_a_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"--every must be a number of seconds from 0\.1 to 3600"):
        follow.parse_seconds(text, "--every", follow.EVERY_RANGE)


def test_max_jump_is_a_percentage_above_zero() -> None:
    assert follow.parse_max_jump("20") == Decimal("0.2")  # 20 / 100
    assert follow.parse_max_jump("2.5") == Decimal("0.025")
    for text in ("0", "1001", "-5", "20%"):
        with pytest.raises(InvalidInput):
            follow.parse_max_jump(text)


def test_one_ticker_object_and_a_list_both_give_prices() -> None:
    assert follow.parse_ticker(b'{"symbol":"BTCUSDT","price":"60000.01000000"}', BTC) == {
        "BTC/USDT": (Decimal("60000.01"), Decimal("60000.01000000"))
    }
    answer = (
        b'[{"symbol":"ETHBTC","price":"0.05000000"},{"symbol":"BTCUSDT","price":"59000.00"},{"symbol":"X","price":"1"}]'
    )
    prices = follow.parse_ticker(answer, TICKS)
    assert {pair: str(on_tick) for pair, (on_tick, _) in prices.items()} == {
        "BTC/USDT": "59000.00",
        "ETH/BTC": "0.05000",
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not JSON"),
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b'{"code":-1121,"msg":"Invalid symbol."}', "list of {symbol, price}"),
        (b'[{"symbol":"ETHBTC","price":"0.05"}]', "no price for BTCUSDT"),
        (b'{"symbol":"BTCUSDT","price":60000.5}', "not a plain decimal string"),
        (b'{"symbol":"BTCUSDT","price":"6e4"}', "not a plain decimal string"),
        (b'{"symbol":"BTCUSDT","price":"-1"}', "not a plain decimal string"),
        (b'{"symbol":"BTCUSDT","price":"NaN"}', "not a plain decimal string"),
        (b'{"symbol":"BTCUSDT","price":"0.00000000"}', "not between 0 and 10^15"),
        (b'{"symbol":"BTCUSDT","price":"0.004"}', "less than half a tick"),
        (b'[{"symbol":"BTCUSDT","price":"1"},{"symbol":"BTCUSDT","price":"2"}]', "listed twice"),
        (b"[]", "no price for BTCUSDT"),
        (b"NaN", "not JSON"),
    ],
)
def test_a_malformed_answer_gives_no_price_at_all(body: bytes, reason: str) -> None:
    with pytest.raises(follow.MalformedAnswer, match=reason.replace("{", r"\{").replace("^", r"\^")):
        follow.parse_ticker(body, BTC)


def test_a_malformed_price_for_one_pair_spoils_the_whole_answer() -> None:
    answer = b'[{"symbol":"ETHBTC","price":"0.05"},{"symbol":"BTCUSDT","price":""}]'
    with pytest.raises(follow.MalformedAnswer):
        follow.parse_ticker(answer, TICKS)


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("60000.00400000", "60000.00"),  # 0.4 of a tick: down
        ("60000.00600000", "60000.01"),  # 0.6 of a tick: up
        ("60000.00500000", "60000.00"),  # a half tick to the even one: 6000000|0 is even
        ("60000.01500000", "60000.02"),  # 6000001|5 → 6000002, the even one
    ],
)
def test_a_price_off_the_tick_goes_to_the_nearest_tick(given: str, recorded: str) -> None:
    assert str(follow.on_tick(Decimal(given), Decimal("0.01"), "BTCUSDT")) == recorded


def test_the_back_off_doubles_from_every_up_to_a_minute() -> None:
    every = Decimal(2)
    # 2 × 2^1 = 4, 2 × 2^2 = 8, … 2 × 2^5 = 64 → capped at 60
    assert [follow.backoff_delay(every, failures) for failures in (1, 2, 3, 4, 5, 6, 1000)] == [
        Decimal(4),
        Decimal(8),
        Decimal(16),
        Decimal(32),
        Decimal(60),
        Decimal(60),
        Decimal(60),
    ]


def test_a_poll_interval_above_a_minute_is_its_own_cap() -> None:
    assert follow.backoff_delay(Decimal(300), 3) == Decimal(300)  # min(300 × 8, max(60, 300))


def test_retry_after_is_honoured_when_longer_than_the_back_off() -> None:
    every = Decimal("0.1")
    assert follow.backoff_delay(every, 1, Decimal(5)) == Decimal(5)  # 0.1 × 2 = 0.2 < 5
    assert follow.backoff_delay(Decimal(2), 4, Decimal(5)) == Decimal(32)  # 2 × 16 = 32 > 5
    assert follow.backoff_delay(every, 1, Decimal(10**9)) == Decimal(259200)  # capped at 3 days = 3 × 86400


@pytest.mark.parametrize(("header", "seconds"), [("5", Decimal(5)), (" 120 ", Decimal(120)), (None, None)])
def test_retry_after_is_read_in_seconds(header: str | None, seconds: Decimal | None) -> None:
    assert follow.parse_retry_after(header) == seconds


@pytest.mark.parametrize("header", ["Wed, 21 Oct 2026 07:28:00 GMT", "-1", "1.5", ""])
def test_a_retry_after_that_is_not_whole_seconds_is_ignored(header: str) -> None:
    assert follow.parse_retry_after(header) is None


MAX_JUMP = Decimal("0.2")


def test_a_move_within_the_max_jump_is_recorded() -> None:
    # |48000 − 60000| / 60000 = 0.2: at the limit, recorded
    assert follow.judge(Decimal(60000), None, Decimal(48000), MAX_JUMP) == follow.Verdict(follow.RECORD)


def test_the_same_price_records_nothing() -> None:
    assert follow.judge(Decimal(60000), None, Decimal(60000), MAX_JUMP).action == follow.UNCHANGED


def test_a_move_beyond_the_max_jump_is_held() -> None:
    # |30000 − 60000| / 60000 = 0.5 > 0.2
    verdict = follow.judge(Decimal(60000), None, Decimal(30000), MAX_JUMP)
    assert verdict == follow.Verdict(follow.HOLD, held=Decimal(30000))
    assert not verdict.records


def test_the_next_answer_near_the_held_price_confirms_it() -> None:
    # |30100 − 30000| / 30000 = 0.0033 ≤ 0.2: the market did move; the newer price is recorded
    verdict = follow.judge(Decimal(60000), Decimal(30000), Decimal(30100), MAX_JUMP)
    assert verdict == follow.Verdict(follow.CONFIRMED)
    assert verdict.records


def test_a_held_price_the_next_answer_contradicts_is_dropped() -> None:
    # back to 60010: within 0.2 of the last price 60000, recorded; the held 30000 was one bad tick
    assert follow.judge(Decimal(60000), Decimal(30000), Decimal(60010), MAX_JUMP) == follow.Verdict(
        follow.RECORD, dropped=Decimal(30000)
    )
    assert follow.judge(Decimal(60000), Decimal(30000), Decimal(60000), MAX_JUMP) == follow.Verdict(
        follow.UNCHANGED, dropped=Decimal(30000)
    )


def test_a_second_far_price_far_from_the_held_one_is_held_in_its_place() -> None:
    # 90000 is 0.5 above 60000 and 2 above the held 30000: neither recorded nor confirming
    assert follow.judge(Decimal(60000), Decimal(30000), Decimal(90000), MAX_JUMP) == follow.Verdict(
        follow.HOLD, held=Decimal(90000), dropped=Decimal(30000)
    )


def test_a_pair_without_a_last_price_records_its_first_one() -> None:
    assert follow.judge(None, None, Decimal(5), MAX_JUMP).action == follow.RECORD
