"""The networks by name, as data: what `--arch` accepts and what models.build_model builds.

torch-free, so that the command line lists the names without loading torch. Each entry is
(kind, size): "mlp"; "dnn" with its number of convolution filters per layer (the paper's DNN20,
DNN33, DNN50; beyond the paper, DNN48W has a 1000-wide hidden layer); "dnn_deep" with its
filters and the number of 3x3 convolutions added after them (DNN33D two, DNN33D4 four,
DNN33D8 eight, DNN33D12 twelve; DNN32D8 and DNN32D12 the same, 32 filters wide); "dnn_deep_wide"
the same with a 1000-wide hidden layer (DNN32D8W); "features"
with a feature extractor and its head (F: FC33; S: its first layers, then FC500 + FC33), §7.
"""
FEATURE_NETS = ("mobilenet", "resnet18", "resnet34", "squeezenet", "vgg16", "vgg16r")

ARCHITECTURES = {
    "mlp": ("mlp", None),
    "dnn20": ("dnn", 20),
    "dnn33": ("dnn", 33),
    "dnn50": ("dnn", 50),
    # beyond the paper: DNN33 widened for the wide world (issue 15), reachable from a trained
    # DNN33 by train.widen_dnn without changing what it predicts
    "dnn48w": ("dnn_wide", 48),
    # beyond the paper: DNN33 deepened (two 3x3 convolutions after its own), reachable from a
    # trained DNN33 by train.deepen_dnn without changing what it predicts
    "dnn33d": ("dnn_deep", (33, 2)),
    # the same with four (session 32): dnn33d ran out of capacity on the wide world
    "dnn33d4": ("dnn_deep", (33, 4)),
    # and eight (session 35): dnn33d4's training error stayed within 1 % of its validation error
    "dnn33d8": ("dnn_deep", (33, 8)),
    # and twelve (session 39): stage 22's training error stayed within 3 % of its validation error
    "dnn33d12": ("dnn_deep", (33, 12)),
    # the same depths 32 wide (session 42): on a CPU without AMX, 33 channels cost OpenVINO far
    # more than 32 (tools/layout_speed.py); reachable from a trained dnn33d8 / dnn33d12 by
    # train.narrow_dnn (one filter pruned in each 33-wide layer), then training
    "dnn32d8": ("dnn_deep", (32, 8)),
    "dnn32d12": ("dnn_deep", (32, 12)),
    # dnn32d8 with a 1000-wide hidden layer (session 48): dnn32d8 stopped gaining from fresh
    # frames; untrained, it costs what dnn32d12 does (tools/layout_speed.py: 1.5x DNN33's
    # inference); reachable from a trained dnn32d8 by train.widen_dnn
    "dnn32d8w": ("dnn_deep_wide", (32, 8)),
    **{f"{net}_{head}": (f"features_{head}", net) for net in FEATURE_NETS for head in "fs"},
}
