"""The fine-tuned model as a file: int8 ONNX out of a sentence-transformers model, and back.

Used by scripts/finetune_model.py; needs its training dependencies (`.[train]`).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path


def int8_weights(src: Path, dst: Path) -> None:
    """Store the big weight matrices as int8 with one fp32 scale per output channel, computing in fp32.

    Each becomes int8 → Cast → Mul(scale), which onnxruntime folds back into an fp32 weight
    when it loads the model: a quarter of the file size at fp32 speed and accuracy (the
    bundled base model is stored the same way). onnxruntime's quantize_dynamic also
    quantizes the activations to uint8 at run time; that moved embeddings to cosine 0.956
    of the fp32 model's, this to 0.9996."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    users: dict[str, list] = {}
    for node in graph.node:
        for position, name in enumerate(node.input):
            users.setdefault(name, []).append((node.op_type, position))
    kept, added = [], []
    for init in graph.initializer:
        weight = numpy_helper.to_array(init)
        if weight.dtype != np.float32 or weight.ndim != 2 or weight.size < 4096:
            kept.append(init)
            continue
        # A MatMul weight (in, out) gets a scale per column, an embedding table (Gather) one per row.
        axis = 0 if all(op == "MatMul" and pos == 1 for op, pos in users.get(init.name, [])) else 1
        scale = np.abs(weight).max(axis=axis, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        kept += [numpy_helper.from_array(quantized, init.name + "_q"),
                 numpy_helper.from_array(scale.astype(np.float32), init.name + "_scale")]
        added += [helper.make_node("Cast", [init.name + "_q"], [init.name + "_f"], to=onnx.TensorProto.FLOAT),
                  helper.make_node("Mul", [init.name + "_f", init.name + "_scale"], [init.name])]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = added + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def export_int8(fp32: Path, onnx_path: Path) -> str:
    """The transformer as ONNX with the inputs and output fastembed expects (it mean-pools
    `last_hidden_state` and normalises), weights stored as int8; returns its sha256."""
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = LastHiddenState(AutoModel.from_pretrained(str(fp32)).eval())
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((1, 8), dtype=torch.int64) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(model, dummy, str(plain), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        int8_weights(plain, onnx_path)
    return hashlib.sha256(onnx_path.read_bytes()).hexdigest()


def weights_from_onnx(onnx_path: Path, base: Path, out: Path) -> Path:
    """`base`'s sentence-transformers model directory with the weights of an int8 ONNX that
    export_int8 wrote (int8 × scale, dequantized here), so that training can go on from it.
    The round trip loses only what int8 storage lost: the directory's embeddings and the
    ONNX file's agree at cosine 1.0000."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from safetensors.numpy import load_file, save_file

    graph = onnx.load(str(onnx_path)).graph
    stored = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    values = {name: array.astype(np.float32) for name, array in stored.items() if not name.endswith(("_q", "_scale"))}
    for name in stored:
        if name.endswith("_q"):
            values[name[:-2]] = stored[name].astype(np.float32) * stored[name[:-2] + "_scale"]
    # torch.onnx names a Linear's weight after nothing useful ("onnx::MatMul_886"), but its node
    # after the module: /bert/encoder/layer.0/attention/self/query/MatMul; it stores W transposed.
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in values and node.name.startswith("/bert/"):
            module = node.name[len("/bert/"):-len("/MatMul")].replace("/", ".")
            values["bert." + module + ".weight"] = values.pop(node.input[1]).T
    shutil.copytree(base, out, dirs_exist_ok=True)
    weights = load_file(str(base / "model.safetensors"))
    missing = sorted(k for k in weights if "bert." + k not in values and not k.startswith("pooler.")
                     and k != "embeddings.position_ids")
    if missing:
        sys.exit(f"{onnx_path}: no weights for {', '.join(missing[:5])}")
    for key in weights:
        if "bert." + key in values:
            weights[key] = np.ascontiguousarray(values["bert." + key]).reshape(weights[key].shape)
    save_file(weights, str(out / "model.safetensors"))
    return out
