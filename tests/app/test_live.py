"""A live run's step curve: kept whole while short, downsampled incrementally as it grows."""

import numpy as np

from deeplook.app.live import LiveSeries


def feed(series, loss, chunk=37):
    for start in range(0, len(loss), chunk):
        step = np.arange(start + 1, min(start + chunk, len(loss)) + 1)
        series.append(step, (step - 1) // 600 + 1, loss[step - 1], loss[step - 1] * 0 + 0.5)


def test_short_curves_are_kept_whole():
    series = LiveSeries(1000)
    loss = np.linspace(2.3, 0.3, 500)
    feed(series, loss)
    out = series.steps_out()
    assert out.step == list(range(1, 501)) and not out.downsampled and out.loss == loss.tolist()


def test_long_curves_keep_every_buckets_extremes_the_ends_and_the_means():
    rng = np.random.default_rng(0)
    loss = rng.random(375_000)
    loss[12_344] = 50.0  # a spike (step 12,345)
    loss[-1] = -5.0
    series = LiveSeries(2000)
    feed(series, loss)
    out = series.steps_out()
    assert out.downsampled and len(out.step) <= 2000
    assert np.all(np.diff(out.step) > 0)
    assert 12_345 in out.step and out.step[0] == 1 and out.step[-1] == 375_000
    assert abs(np.mean(out.loss_mean) - loss.mean()) < 0.01  # each kept point carries its bucket's mean
    # the same as summarising the whole curve at once: incremental and batch agree
    whole = LiveSeries(2000)
    step = np.arange(1, 375_001)
    whole.append(step, (step - 1) // 600 + 1, loss, loss * 0 + 0.5)
    assert whole.steps_out() == out


def test_repeated_steps_are_ignored_and_truncation_forgets_the_tail():
    series = LiveSeries(100)
    feed(series, np.ones(50))
    series.append(np.arange(40, 60), np.ones(20, int), np.zeros(20), np.zeros(20))  # 40..49 again
    assert len(series) == 59 and series.last_step == 59
    series.truncate(30)
    assert len(series) == 30 and series.steps_out().step == list(range(1, 31))
