"""Loading a registered dataset for training or scoring (app/data/load.py), as a worker does: a built-in
from its package, an upload parsed again with the schema its inspection stored."""
from __future__ import annotations

import pytest

from app.data.load import load_dataset
from app.data.uploads import inspect_upload


def test_a_builtin_comes_from_its_package_whatever_path_is_given(tmp_path):
    data = load_dataset("tabular", "builtin:sklearn.iris", tmp_path / "ignored", {})
    assert data.X.shape == (150, 4) and data.class_names == ["setosa", "versicolor", "virginica"]


def test_an_upload_is_parsed_with_the_schema_found_at_upload_time(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("a;b;label\n1,5;2;x\n3;4,25;y\n5;6;x\n")
    inspection = inspect_upload(path, "tabular", {"decimal": ","})
    data = load_dataset("tabular", "upload:semicolons.csv", path, inspection.schema)
    assert data.feature_names == ["a", "b"] and data.class_names == ["x", "y"]
    assert data.X.tolist() == [[1.5, 2.0], [3.0, 4.25], [5.0, 6.0]] and data.y.tolist() == [0, 1, 0]


def test_an_upload_without_its_file_is_an_error_naming_the_source():
    with pytest.raises(ValueError, match=r"'upload:gone\.csv' has no file"):
        load_dataset("tabular", "upload:gone.csv", None, {})
