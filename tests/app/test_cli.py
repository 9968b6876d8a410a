"""The ``deeplook`` command line: argument errors, and a real training run on MNIST."""

import pytest

from deeplook.app.runs import build_config
from deeplook.app.schemas import RunCreate
from deeplook.cli import build_parser, config_from_args, main
from deeplook.engine import serialize
from deeplook.engine.config import SETTINGS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "0"], "epochs must be >= 1 and <= 1000, got 0"),
        (["train", "--lr", "-0.1"], "lr must be > 0 and <= 1000, got -0.1"),
        (["train", "--lr", "inf"], "lr must be > 0 and <= 1000, got inf"),
        (["train", "--hidden", "fifty"], "expected a whole number, got 'fifty'"),
        (["train", "--hidden", "50", "0"], "hidden must be >= 1 and <= 4096, got 0"),
        (["train", "--batch-size", "2.5"], "expected a whole number"),
        (["train", "--momentum", "1.5"], "momentum must be >= 0 and < 1, got 1.5"),
        (["train", "--activation", "softplus"], "invalid choice"),
        (["train", "--preset", "nope"], "invalid choice"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_rest_and_the_command_line_accept_exactly_the_same_settings():
    train = build_parser()._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    options = {action.dest for action in train._actions}
    cli = options - {"help", "preset", "save", "data_dir", "cache_dir", "offline"}
    rest = set(RunCreate.model_fields) - {"preset", "name", "pace"}  # a run's, not a config's
    assert cli == rest == set(SETTINGS)

    # every setting at once, through both doors: the same config
    values = {
        "dataset": "fashion-mnist",
        "hidden": [20, 10],
        "activation": "gelu",
        "init": "normal",
        "init_std": 0.05,
        "optimizer": "adam",
        "lr": 0.003,
        "lr_decay": 0.9,
        "momentum": 0.5,
        "beta1": 0.8,
        "beta2": 0.99,
        "eps": 1e-6,
        "batch_size": 64,
        "epochs": 4,
        "seed": 9,
        "threads": 1,
        "augment": "affine",
        "train_size": 5000,
    }
    assert set(values) == set(SETTINGS)
    argv = ["train", "--preset", "notebook-adam"]
    for name, value in values.items():
        argv += ["--" + name.replace("_", "-"), *map(str, value if isinstance(value, list) else [value])]
    from_cli = config_from_args(build_parser().parse_args(argv))
    from_rest = build_config(RunCreate(preset="notebook-adam", **values))
    assert from_cli == from_rest
    assert from_cli.model.hidden == (20, 10) and from_cli.threads == 1 and from_cli.dataset == "fashion-mnist"
    assert from_cli.train_size == 5000


@pytest.mark.slow
def test_train_prints_epoch_lines_and_saves_a_usable_model(capsys, tmp_path, mnist):
    path = tmp_path / "model.npz"
    code = main(["train", "--preset", "notebook-adam", "--epochs", "2", "--seed", "3", "--save", str(path)])
    out = capsys.readouterr().out.splitlines()

    assert code == 0
    assert [line.split()[:2] for line in out] == [["epoch", "1/2"], ["epoch", "2/2"]]
    accuracy = float(out[-1].split("test loss")[1].split()[2])
    assert accuracy > 0.93
    checkpoint = serialize.load(path)
    assert checkpoint.epoch == 2
    probs = checkpoint.weights.predict_proba(mnist.test_images[:500] / 255.0)
    assert (probs.argmax(axis=1) == mnist.test_labels[:500]).mean() > 0.9


def test_data_command_reports_the_source(capsys, mnist):
    assert main(["data", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "source:  cache" in out and "60000 images" in out


def test_several_workers_need_predict_only(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPLOOK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DEEPLOOK_PREDICT_ONLY", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "--predict-only" in capsys.readouterr().err
