import pytest

from slr_pose.graphs.normalisation.pipeline import PreprocessConfig
from slr_pose.training.config import ConfigError, StoreSource, config_from_dict, load_config


def test_load_yaml_resolves_paths_and_overrides(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "task: islr\n"
        "data:\n  stores:\n    - {path: poses.h5, language: mfs}\n    - other.h5\n"
        "  preprocess: {streams: [joint, bone], subset: hands}\n"
        "train:\n  epochs: 3\n"
    )
    cfg = load_config(tmp_path / "c.yaml", ["train.lr=0.01", "data.preprocess.length=32", "model.kwargs={width: 48}"])
    assert cfg.data.stores == (
        StoreSource(str(tmp_path / "poses.h5"), "mfs"),
        StoreSource(str(tmp_path / "other.h5"), ""),
    )
    # typed: the pipeline's own config, the keys the file leaves out at their defaults
    assert cfg.data.preprocess == PreprocessConfig(streams=("joint", "bone"), subset="hands", length=32)
    assert cfg.train.epochs == 3 and cfg.train.lr == 0.01
    assert cfg.model.kwargs == {"width": 48}
    # round trip through a plain dict
    assert config_from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"trian": {}}, "unknown config key 'trian'"),
        ({"train": {"lrr": 1}}, "unknown config key 'train.lrr'"),
        ({"train": {"lr": "fast"}}, "train.lr must be a number, got 'fast'"),
        ({"train": {"epochs": 2.5}}, "train.epochs must be an integer, got 2.5"),
        ({"train": {"epochs": 0}}, "train.epochs=0: must be at least 1"),
        ({"task": "slr"}, "task='slr': must be one of islr, cslr"),
        ({"data": {"preprocess": {"streams": ["joint", "speed"]}}}, "data.preprocess: unknown stream 'speed'"),
        ({"data": {"preprocess": {"lenght": 3}}}, "data.preprocess: unknown preprocessing option 'lenght'"),
        ({"augment": {"rotation": 400}}, "augment rotation=400"),
        ({"augment": {"spin": 1}}, "augment: unexpected keyword argument 'spin'"),
        ({"data": {"target": "words"}}, "data.target='words'"),
        ({"data": {"split": {"mode": "person"}}}, "data.split.mode='person'"),
        ({"data": {"stores": "poses.h5"}}, "data.stores must be a list"),
        ({"model": {"boundary": "yes"}}, "model.boundary must be true or false"),
        ({"model": {"gloss_head": 1}}, "model.gloss_head must be true or false"),
        ({"train": {"gloss_weight": -1}}, "train.gloss_weight=-1.0: must not be negative"),
        # these were tracebacks, or values that crashed training later
        ({"train": {"lr": float("nan")}}, "train.lr must be a finite number, got nan"),
        ({"train": {"warmup_epochs": 10**400}}, "train.warmup_epochs must be a finite number"),
        ({"data": {"preprocess": {1: 2, "length": 8}}}, "data.preprocess must have names as keys, got 1"),  # TypeError
        ({"data": {"preprocess": {"streams": [[1]]}}}, "data.preprocess: unknown stream [1]"),  # TypeError
    ],
)
def test_bad_values_name_key_and_value(raw, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        config_from_dict(raw)


def test_a_store_entry_without_path_names_the_key(tmp_path):
    (tmp_path / "c.yaml").write_text("data:\n  stores:\n    - {language: mfs}\n")  # was a TypeError traceback
    with pytest.raises(ConfigError, match=r"^config key 'data.stores\[0\].path' is missing$"):
        load_config(tmp_path / "c.yaml")


def test_keys_from_the_file_are_shown_on_one_line():
    with pytest.raises(ConfigError) as e:
        config_from_dict({"augment": {"spin\r\n": 1}})  # Augment's own TypeError showed the key raw
    assert str(e.value) == "augment: unexpected keyword argument 'spin\\r\\n'"


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"task: \xe9\n")  # was a UnicodeDecodeError
    with pytest.raises(ConfigError, match=r"latin1.yaml is not UTF-8 text \(invalid continuation byte at byte 6\)"):
        load_config(tmp_path / "latin1.yaml")
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 3000)  # was a RecursionError
    with pytest.raises(ConfigError, match="deep.yaml is not a config: its values nest too deeply"):
        load_config(tmp_path / "deep.yaml")
    (tmp_path / "ok.yaml").write_text("task: islr\n")
    with pytest.raises(ConfigError, match="is not KEY=VALUE"):
        load_config(tmp_path / "ok.yaml", ["train.epochs"])


def test_the_module_docstring_example_loads_and_names_a_registered_model(tmp_path):
    import textwrap

    import slr_pose.training.config as config_module
    from slr_pose.models import list_models

    example = config_module.__doc__.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    (tmp_path / "c.yaml").write_text(textwrap.dedent(example))
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.model.name in list_models()
    assert cfg.data.stores == (StoreSource(str(tmp_path / "poses.h5"), "mfs"),) and cfg.train.epochs == 30
