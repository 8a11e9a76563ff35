"""Refuse ONNX files whose external data would be read from outside their own folder.

An ONNX tensor may keep its bytes in another file (``data_location: EXTERNAL``, with a
``location`` relative to the model). A hostile model can name ``../../etc/passwd`` or an
absolute path and have the runtime read (and, through the model's output, leak) any
file. Every tensor of the model — initializers, sparse initializers, constants in node
attributes, subgraphs and functions — is checked before a session is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

import onnx


class UnsafeModelError(ValueError):
    """An ONNX model that must not be loaded; the message names the file and the tensor."""


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: onnx.NodeProto) -> Iterator[onnx.TensorProto]:
    for attribute in node.attribute:
        if attribute.HasField("t"):
            yield attribute.t
        yield from attribute.tensors
        if attribute.HasField("sparse_tensor"):
            yield attribute.sparse_tensor.values
            yield attribute.sparse_tensor.indices
        if attribute.HasField("g"):
            yield from _graph_tensors(attribute.g)
        for graph in attribute.graphs:
            yield from _graph_tensors(graph)


def all_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def check_external_data(path: str | Path) -> onnx.ModelProto:
    """The model (without its external data) after checking every external location
    stays inside the model's folder; UnsafeModelError otherwise, ValueError when the
    file is not readable ONNX."""
    path = Path(path)
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ValueError(
            f"{path}: not a readable ONNX model (corrupt or truncated): {error}"
        ) from error
    folder = path.resolve().parent
    for tensor in all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        reason = _outside_reason(location, folder)
        if reason:
            raise UnsafeModelError(
                f"{path}: tensor {tensor.name!r} keeps its data at {location!r}, {reason}; "
                f"external data must be a file inside {folder}"
            )
    return model


def _outside_reason(location: str, folder: Path) -> str:
    if not location:
        return "an empty location"
    if PurePosixPath(location).is_absolute() or PureWindowsPath(location).is_absolute():
        return "an absolute path"
    if ".." in PurePosixPath(location.replace("\\", "/")).parts:
        return "a path that climbs out of the model's folder"
    target = (folder / location).resolve()  # follows symbolic links
    if not target.is_relative_to(folder):
        return f"which resolves to {target}, outside the model's folder"
    return ""
